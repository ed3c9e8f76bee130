export {
  buildQuestion,
  DATASET_NAMES,
  type DataRecord,
  DatasetError,
  type DatasetName,
  evalGold,
  firstGold,
  HARNESS_NAME,
  isDatasetName,
  MULTI_CHOICE,
  PAPER_TASKS,
  parsePyStringList,
  rawGold,
} from "./datasets.ts";
export {
  type DatasetMetrics,
  EvalDataError,
  type EvalOptions,
  type EvalSummary,
  evaluate,
  formatTable,
  loadDataset,
  pyRound1,
  type Sample,
  selectRecords,
} from "./evaluate.ts";
export { extractAnswer, extractMultiChoiceAnswer } from "./extract.ts";
export {
  cutAtStop,
  encodeWithBos,
  type GenerativeModel,
  type Generator,
  type ModelGeneratorOptions,
  modelGenerator,
  type TextTokenizer,
} from "./generator.ts";
export {
  cleanCompletion,
  extractPrediction,
  type GraderKind,
  gradeCompletion,
  type Verdict,
} from "./grade.ts";
export { isDigit, mathEqual, numericEqual, parseDigits, strToPmatrix } from "./grader.ts";
export { EVAL_DATA_DIR } from "./paths.ts";
export { DEFAULT_TIMEOUT_MS, GradingPool, type GradingPoolOptions, type PoolVerdict } from "./pool.ts";
export { buildPrompt, loadPromptSpec, PromptFileError, type PromptSpec, STOP_STRINGS } from "./prompts.ts";
export { PyRandom } from "./py-random.ts";
export { pyFloat, pyFloatStr, pyStrRepr } from "./python.ts";
export {
  convertWordNumber,
  fixASlashB,
  fixFracs,
  fixSqrt,
  stripString,
  stripTimes,
  UNIT_TEXTS,
} from "./strip-string.ts";
export { parseLatexExpr, symbolicEqual } from "./symbolic.ts";
export { Word2NumberError, wordToNum } from "./word2number.ts";
