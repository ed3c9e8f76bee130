import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Tokenizer } from "@rho1/tokenizer";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
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
  sequence(i: number): Sequence;
}

/** Expands directories into their *.parquet / *.jsonl files (sorted), keeping the given order otherwise. */
export async function expandDataPaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new TrainError(`--data ${path}: no such file or directory`, "missing_data");
    });
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => /\.(parquet|jsonl|ndjson)$/i.test(n)).sort();
      if (names.length === 0)
        throw new TrainError(`--data ${path}: directory has no .parquet or .jsonl files`, "missing_data");
      out.push(...names.map((n) => join(path, n)));
    } else out.push(path);
  }
  return out;
}

/** Reads the text column of a JSON-lines or parquet file, document by document. */
export async function* readTexts(path: string, textColumn = "text"): AsyncGenerator<string> {
  if (/\.parquet$/i.test(path)) {
    const file = await asyncBufferFromFile(path);
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({ file, columns: [textColumn], compressors })) as Record<
        string,
        unknown
      >[];
    } catch (error) {
      throw new TrainError(
        `${path}: cannot read column "${textColumn}" (${(error as Error).message})`,
        "bad_data",
      );
    }
    for (const row of rows) {
      const text = row[textColumn];
      if (typeof text === "string") yield text;
    }
    return;
  }
  if (!/\.(jsonl|ndjson)$/i.test(path))
    throw new TrainError(`${path}: expected a .jsonl or .parquet file`, "bad_data");
  let n = 0;
  for await (const line of jsonLines(path)) {
    n++;
    if (line.trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new TrainError(`${path}:${n}: not valid JSON`, "bad_data");
    }
    const text = (row as Record<string, unknown>)?.[textColumn];
    if (typeof text !== "string")
      throw new TrainError(`${path}:${n}: no string field "${textColumn}"`, "bad_data");
    yield text;
  }
}

/**
 * The lines of a JSON-lines file, split on "\n" only. node:readline also breaks at U+2028/U+2029, which JSON allows
 * unescaped inside strings (GSM8K has them), so it would cut records in two.
 */
async function* jsonLines(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of createReadStream(path)) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered !== "") yield buffered;
}

/**
 * Packs documents as the reference scorer does: [BOS] + tokens + [EOS] per non-empty document (BOS when the
 * tokenizer adds one), concatenated and cut into rows of seqLen; the last row is right-padded and its padding
 * positions are not valid targets.
 */
export async function packText(
  paths: string[],
  tokenizer: Tokenizer,
  seqLen: number,
  textColumn = "text",
): Promise<SequenceSource> {
  // The scorer's packDocuments restarts rows at every unit (row group); training cuts one stream over all files, so
  // it keeps only each batch's document tokens (the unpadded prefix) and cuts rows itself. Imported lazily like
  // ScoreStore, so importing @rho1/train alone does not load the scorer.
  const { packDocuments } = await import("@rho1/reference-scorer");
  let stream = new Int32Array(1 << 16);
  let used = 0;
  const bos = tokenizer.addBos && tokenizer.bosId !== null;
  const flush = (texts: string[]) => {
    const unit = packDocuments(texts, tokenizer, { seqLen, bos });
    if (used + unit.tokens > stream.length) {
      let size = stream.length * 2;
      while (size < used + unit.tokens) size *= 2;
      const bigger = new Int32Array(size);
      bigger.set(stream.subarray(0, used));
      stream = bigger;
    }
    stream.set(unit.ids.subarray(0, unit.tokens), used);
    used += unit.tokens;
  };
  for (const path of paths) {
    let pending: string[] = [];
    for await (const text of readTexts(path, textColumn)) {
      if (text.trim() === "") continue;
      pending.push(text);
      if (pending.length === 256) {
        flush(pending);
        pending = [];
      }
    }
    flush(pending);
  }
  if (used < 2) throw new TrainError(`--data: fewer than 2 tokens in ${paths.join(", ")}`, "empty_data");
  const numSequences = Math.ceil(used / seqLen);
  const pad = tokenizer.padId ?? tokenizer.eosId ?? 0;
  return {
    numSequences,
    seqLen,
    hasReference: false,
    sequence(i: number): Sequence {
      const ids = new Int32Array(seqLen).fill(pad);
      const start = i * seqLen;
      const length = Math.min(seqLen, used - start);
      ids.set(stream.subarray(start, start + length));
      const valid = new Float32Array(seqLen - 1);
      for (let t = 0; t + 1 < length; t++) valid[t] = 1;
      return { ids, valid };
    },
  };
}

/** What training reads of @rho1/reference-scorer's ScoreStore (structural, so the import stays lazy). */
export interface ScoreStoreLike {
  readonly manifest: {
    tokenizer: { hash: string };
    seqLen: number;
    textColumn?: string;
    sources: { path: string; size: number }[];
  };
  readonly numSequences: number;
  sequence(i: number): { ids: Int32Array; refLoss: Float32Array; valid: Float32Array };
}

/**
 * Wraps a score store after checking that it was made from this data with this tokenizer and sequence length:
 * the same files (name and size, in order), the same tokenizer.json hash, the same seqLen. Refuses any mismatch.
 */
export async function scoredSource(
  store: ScoreStoreLike,
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
