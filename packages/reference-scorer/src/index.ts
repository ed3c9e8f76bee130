export {
  type OwmRow,
  owmRowsFromJsonl,
  type ParquetCodec,
  parquetCompressors,
  type WriteOwmOptions,
  writeOwmParquet,
  writeOwmParquetGroups,
} from "./build-corpus.ts";
export { ScoreError } from "./errors.ts";
export {
  EXPORT_SCHEMA,
  type ExportParquetOptions,
  type ExportSummary,
  exportScoresParquet,
} from "./export.ts";
export {
  DEFAULT_JSONL_UNIT_BYTES,
  expandInputs,
  fileAsyncBuffer,
  type InputFile,
  type InputUnit,
  planInputs,
  readTextDocuments,
  readUnitRecords,
  readUnitTexts,
  shardUnits,
  type TextDocument,
} from "./input.ts";
export {
  HISTOGRAM_EDGES,
  type ScoreManifest,
  type ScoreSpec,
  type SourceEntry,
  type UnitEntry,
} from "./manifest.ts";
export { mergeScores } from "./merge.ts";
export { hashModelDir, loadModelScorer, type TokenScorer } from "./model.ts";
export { type CorpusTokenizer, DocumentPacker, type PackedUnit, packDocuments, padIdOf } from "./pack.ts";
export type { ProgressSink, ProgressSnapshot } from "./progress.ts";
export { type ScoreCorpusOptions, type StageTimings, scoreCorpus } from "./score.ts";
export {
  type DocumentScoreBy,
  type SelectDocumentsOptions,
  type SelectDocumentsSummary,
  selectDocuments,
} from "./select-documents.ts";
export { type ScoredSequence, ScoreStore } from "./store.ts";
export { decodeUnit, type LossDtype, mapUnit, type UnitView } from "./unit-file.ts";
