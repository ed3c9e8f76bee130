import { stat } from "node:fs/promises";
import { basename } from "node:path";
import {
  type CorpusTokenizer,
  DocumentPacker,
  planInputs,
  readUnitTexts,
  type ScoreStore,
} from "@rho1/reference-scorer";
import { TrainError } from "./errors.ts";

/** One training sequence: ids [seqLen]; valid [seqLen−1] (target t+1 is a real token); refLoss when scored. */
export interface Sequence {
  ids: Int32Array;
  valid: Float32Array;
  refLoss?: Float32Array;
}

/** Indexable packed sequences, from a score store or from tokenized text. */
export interface SequenceSource {
  readonly numSequences: number;
  readonly seqLen: number;
  readonly hasReference: boolean;
  /** Documents with a null or blank text, skipped (as the scorer skips them). */
  readonly skippedDocuments?: number;
  sequence(i: number): Sequence;
}

/**
 * Packs documents as the reference scorer does: [BOS] + tokens + [EOS] per non-empty document (BOS when the
 * tokenizer adds one), concatenated and cut into rows of seqLen; the last row is right-padded and its padding
 * positions are not valid targets. Unlike the scorer, which restarts rows at every unit so that units stay
 * independent, training cuts one stream over all files. Files are read one row group (or JSON-lines chunk) at a
 * time, so memory holds the packed tokens and one row group of text, never a whole parquet file.
 */
export async function packText(
  paths: string[],
  tokenizer: CorpusTokenizer,
  seqLen: number,
  textColumn = "text",
): Promise<SequenceSource> {
  const packer = new DocumentPacker(tokenizer, { bos: tokenizer.addBos && tokenizer.bosId !== null });
  for (const file of await planInputs(paths, textColumn))
    for (const unit of file.units) packer.add(await readUnitTexts(file, unit, textColumn));
  if (packer.tokens === 0)
    throw new TrainError(
      `no documents in ${paths.join(", ")} (empty files, or only empty or null texts)`,
      "empty_data",
    );
  if (packer.tokens < 2)
    throw new TrainError(`--data: fewer than 2 tokens in ${paths.join(", ")}`, "empty_data");
  const packed = packer.finish(seqLen);
  const skippedDocuments = packed.skipped;
  return {
    numSequences: packed.numSequences,
    seqLen,
    hasReference: false,
    skippedDocuments,
    sequence(i: number): Sequence {
      const ids = packed.ids.slice(i * seqLen, (i + 1) * seqLen);
      const valid = new Float32Array(seqLen - 1);
      valid.fill(1, 0, Math.max(0, packed.lengths[i] - 1));
      return { ids, valid };
    },
  };
}

/**
 * Wraps a score store after checking that it was made from this data with this tokenizer and sequence length:
 * the same files (name and size, in order), the same tokenizer.json hash, the same seqLen. Refuses any mismatch.
 */
export async function scoredSource(
  store: ScoreStore,
  dir: string,
  checks: { tokenizerHash: string; seqLen?: number; data: string[]; textColumn?: string },
): Promise<SequenceSource> {
  const m = store.manifest;
  if (checks.textColumn !== undefined && m.textColumn !== undefined && m.textColumn !== checks.textColumn) {
    throw new TrainError(
      `--ref-scores ${dir}: scored text column "${m.textColumn}", --text-column asks for "${checks.textColumn}"`,
      "score_mismatch",
    );
  }
  if (m.tokenizer.hash !== checks.tokenizerHash) {
    throw new TrainError(
      `--ref-scores ${dir}: scored with tokenizer ${m.tokenizer.hash.slice(0, 12)}…, the model's is ${checks.tokenizerHash.slice(0, 12)}…`,
      "score_mismatch",
    );
  }
  if (checks.seqLen !== undefined && m.seqLen !== checks.seqLen) {
    throw new TrainError(
      `--ref-scores ${dir}: sequence length ${m.seqLen}, --seq-len asks for ${checks.seqLen}`,
      "score_mismatch",
    );
  }
  const files = await Promise.all(
    checks.data.map(async (p) => ({ name: basename(p), size: (await stat(p)).size })),
  );
  const sources = m.sources.map((s) => ({ name: basename(s.path), size: s.size }));
  const same =
    files.length === sources.length &&
    files.every((f, i) => f.name === sources[i]?.name && f.size === sources[i]?.size);
  if (!same) {
    const show = (l: { name: string; size: number }[]) => l.map((f) => `${f.name} (${f.size} B)`).join(", ");
    throw new TrainError(
      `--ref-scores ${dir}: scored corpus [${show(sources)}] differs from --data [${show(files)}]`,
      "score_mismatch",
    );
  }
  if (store.numSequences === 0)
    throw new TrainError(`--ref-scores ${dir}: no documents in the scored corpus`, "empty_data");
  return {
    numSequences: store.numSequences,
    seqLen: m.seqLen,
    hasReference: true,
    sequence: (i) => {
      const s = store.sequence(i);
      return {
        ids: Int32Array.from(s.ids),
        valid: Float32Array.from(s.valid),
        refLoss: Float32Array.from(s.refLoss),
      };
    },
  };
}
