/**
 * The store manifest: what was scored, with what, and where every unit lives. Built by one function from the
 * unit files on disk, used both at the end of `scoreCorpus` and by `mergeScores`, so that a merged store's
 * manifest is byte-identical to a single-process run's. No timestamps, hostnames or absolute output paths.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mapFile } from "@rho1/io";
import { ScoreError } from "./errors.ts";
import type { InputFile } from "./input.ts";
import { decodeUnit, type LossDtype } from "./unit-file.ts";

export const STORE_FORMAT = "rho1-score-store";
export const STORE_VERSION = 1;

/** Loss histogram bins: [0, 0.5), [0.5, 1), ..., [15.5, 16), and a last bin for >= 16 (nats). */
export const HISTOGRAM_EDGES = Array.from({ length: 33 }, (_, i) => i * 0.5);

/** Everything that determines the bytes of the output: a store may only be resumed or merged if these match. */
export interface ScoreSpec {
  format: typeof STORE_FORMAT;
  version: number;
  unitFormatVersion: number;
  tokenizer: { hash: string; vocabSize: number; bosId: number | null; eosId: number | null; padId: number };
  model: { hash: string; vocabSize: number | null };
  seqLen: number;
  batchSize: number;
  lossDtype: LossDtype;
  textColumn: string;
  packing: { bos: boolean; eos: boolean; scope: "unit" };
  jsonlUnitBytes: number;
  sources: SourceEntry[];
}

export interface SourceEntry {
  path: string;
  kind: "parquet" | "jsonl";
  size: number;
  rows: number | null;
  /** Every unit of the file: [start, end) rows (parquet row group) or bytes (jsonl chunk). */
  units: [number, number][];
}

export interface UnitEntry {
  file: number;
  /** Row group (parquet) or chunk (jsonl) index. */
  index: number;
  path: string;
  bytes: number;
  sha256: string;
  rows: number;
  sequences: number;
  documents: number;
  skipped: number;
  tokens: number;
  validTokens: number;
  lossSum: number;
  firstSequence: number;
  firstDocument: number;
}

export interface ScoreManifest extends ScoreSpec {
  /** null for a complete store; {index, count} for one shard's part. */
  shard: { index: number; count: number } | null;
  counts: {
    units: number;
    rows: number;
    documents: number;
    skippedDocuments: number;
    sequences: number;
    tokens: number;
    validTokens: number;
  };
  stats: {
    meanLoss: number;
    histogram: { edges: number[]; counts: number[] };
    perSource: {
      path: string;
      rows: number;
      documents: number;
      skipped: number;
      tokens: number;
      meanLoss: number;
    }[];
  };
  units: UnitEntry[];
}

export function sourceEntries(files: InputFile[]): SourceEntry[] {
  return files.map((f) => ({
    path: f.path,
    kind: f.kind,
    size: f.size,
    rows: f.rows,
    units: f.units.map((u) => [u.start, u.end] as [number, number]),
  }));
}

export const unitFileName = (file: number, index: number) =>
  `units/${String(file).padStart(5, "0")}-${String(index).padStart(6, "0")}.bin`;

/**
 * Reads the unit files (in the given global order) under `dir`, checksums them, and assembles the manifest.
 * `expectedSha` (from shard manifests, when merging) is verified.
 */
export async function buildManifest(
  dir: string,
  spec: ScoreSpec,
  units: { file: number; index: number; expectedSha?: string }[],
  shard: { index: number; count: number } | null,
): Promise<ScoreManifest> {
  const histogram = new Array(HISTOGRAM_EDGES.length).fill(0);
  const perSource = spec.sources.map((s) => ({
    path: s.path,
    rows: 0,
    documents: 0,
    skipped: 0,
    tokens: 0,
    lossSum: 0,
    valid: 0,
  }));
  const entries: UnitEntry[] = [];
  let firstSequence = 0;
  let firstDocument = 0;
  for (const { file, index, expectedSha } of units) {
    const path = unitFileName(file, index);
    const full = `${dir}/${path}`;
    const bytes = mapFile(full);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (expectedSha !== undefined && expectedSha !== sha256) {
      throw new ScoreError(
        "corrupt_store",
        `checksum ${sha256} does not match the shard manifest's ${expectedSha}`,
        { file: full },
      );
    }
    const unit = decodeUnit(bytes, full);
    if (unit.layout.seqLen !== spec.seqLen || unit.layout.lossDtype !== spec.lossDtype) {
      throw new ScoreError(
        "store_mismatch",
        `unit has seqLen ${unit.layout.seqLen} / ${unit.layout.lossDtype}, the store ${spec.seqLen} / ${spec.lossDtype}`,
        { file: full },
      );
    }
    // Sum losses over valid positions (t + 1 < length) in float64, in storage order: deterministic.
    let lossSum = 0;
    let validTokens = 0;
    const T = spec.seqLen - 1;
    for (let s = 0; s < unit.layout.sequences; s++) {
      const valid = Math.max(0, unit.lengths[s] - 1);
      validTokens += valid;
      for (let t = 0; t < valid; t++) {
        const v = unit.loss[s * T + t];
        lossSum += v;
        const bin = Number.isNaN(v)
          ? HISTOGRAM_EDGES.length - 1
          : Math.min(HISTOGRAM_EDGES.length - 1, Math.max(0, Math.floor(v * 2)));
        histogram[bin]++;
      }
    }
    entries.push({
      file,
      index,
      path,
      bytes: bytes.length,
      sha256,
      rows: unit.rows,
      sequences: unit.layout.sequences,
      documents: unit.layout.documents,
      skipped: unit.skipped,
      tokens: unit.tokens,
      validTokens,
      lossSum,
      firstSequence,
      firstDocument,
    });
    firstSequence += unit.layout.sequences;
    firstDocument += unit.layout.documents;
    const src = perSource[file];
    src.rows += unit.rows;
    src.documents += unit.layout.documents;
    src.skipped += unit.skipped;
    src.tokens += unit.tokens;
    src.lossSum += lossSum;
    src.valid += validTokens;
  }
  const sum = (f: (e: UnitEntry) => number) => entries.reduce((a, e) => a + f(e), 0);
  const validTokens = sum((e) => e.validTokens);
  return {
    ...spec,
    shard,
    counts: {
      units: entries.length,
      rows: sum((e) => e.rows),
      documents: sum((e) => e.documents),
      skippedDocuments: sum((e) => e.skipped),
      sequences: firstSequence,
      tokens: sum((e) => e.tokens),
      validTokens,
    },
    stats: {
      meanLoss: validTokens === 0 ? 0 : sum((e) => e.lossSum) / validTokens,
      histogram: { edges: HISTOGRAM_EDGES, counts: histogram },
      perSource: perSource.map(({ lossSum, valid, ...rest }) => ({
        ...rest,
        meanLoss: valid === 0 ? 0 : lossSum / valid,
      })),
    },
    units: entries,
  };
}

export function manifestJson(manifest: ScoreManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Reads and format-checks a finished store's manifest.json (synchronous: ScoreStore.open uses it too). */
export function readManifest(dir: string): ScoreManifest {
  const path = `${dir}/manifest.json`;
  if (!existsSync(path))
    throw new ScoreError("missing_store", "no manifest.json: not a finished score store", { file: dir });
  let manifest: ScoreManifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8")) as ScoreManifest;
  } catch (error) {
    throw new ScoreError("corrupt_store", `manifest is not valid JSON (${(error as Error).message})`, {
      file: path,
    });
  }
  if (manifest.format !== STORE_FORMAT || manifest.version !== STORE_VERSION) {
    throw new ScoreError(
      "corrupt_store",
      `format ${manifest.format} v${manifest.version}, expected ${STORE_FORMAT} v${STORE_VERSION}`,
      { file: path },
    );
  }
  return manifest;
}

/** Every field of ScoreSpec, in manifest order (the type below fails to compile if one is missing). */
const SPEC_KEYS = [
  "format",
  "version",
  "unitFormatVersion",
  "tokenizer",
  "model",
  "seqLen",
  "batchSize",
  "lossDtype",
  "textColumn",
  "packing",
  "jsonlUnitBytes",
  "sources",
] as const satisfies readonly (keyof ScoreSpec)[];
const specKeysComplete: Exclude<keyof ScoreSpec, (typeof SPEC_KEYS)[number]> extends never ? true : never =
  true;
void specKeysComplete;

/** Names the first field where two specs differ (for resume / merge refusals), or null. */
export function specDifference(a: ScoreSpec, b: ScoreSpec): string | null {
  for (const key of SPEC_KEYS) {
    const x = JSON.stringify(a[key]);
    const y = JSON.stringify(b[key]);
    if (x !== y) return `${key}: ${x.slice(0, 120)} vs ${y.slice(0, 120)}`;
  }
  return null;
}

export function specOf(m: ScoreManifest): ScoreSpec {
  return Object.fromEntries(SPEC_KEYS.map((key) => [key, m[key]])) as unknown as ScoreSpec;
}
