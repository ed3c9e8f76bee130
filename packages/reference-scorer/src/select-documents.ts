/**
 * Document-level selection (`rho1 select`): keep whole documents by excess loss, the data-level counterpart of
 * SLM's token selection (as RHO-LOSS keeps samples), from two score stores over the same tokens -- the reference
 * model's and the training model's. Output: the kept documents as OpenWebMath-schema parquet, their columns as
 * they were, plus `rho1_excess`, `rho1_tokens` and `rho1_selected_fraction`.
 *
 * A document's scored tokens are its tokens after the first (the first, BOS, is predicted from the previous
 * document's EOS and says nothing about this one), excluding tokens at a row start (no prediction across rows).
 * excess(token) = L_model − L_ref. Per document: `mean` = mean excess over its scored tokens, `sum` = their sum,
 * `fraction-selected` = the share of its tokens that token-level SLM at `tokenRatio` over the whole corpus keeps
 * (excess ≥ the corpus' exact k-th largest excess, k = max(1, floor(tokenRatio · N))). Documents without scored
 * tokens are never kept. `ratio` keeps the top max(1, floor(ratio · scored documents)) by score, ties to the
 * earlier document; `threshold` keeps those with score ≥ threshold.
 *
 * Memory: one float64 per document plus two 65,536-bucket histograms (the k-th excess is found by a two-pass
 * radix select over the mapped stores, exactly), and one row group of the input at a time on output.
 */
import type { ParquetWriter } from "hyparquet-writer";
import { ScoreError } from "./errors.ts";
import { type InputFile, planInputs, readUnitRecords } from "./input.ts";
import type { ScoreManifest } from "./manifest.ts";
import { writeParquetOutput } from "./parquet-output.ts";
import { ScoreStore } from "./store.ts";
import type { UnitView } from "./unit-file.ts";

export type DocumentScoreBy = "mean" | "sum" | "fraction-selected";

export interface SelectDocumentsOptions {
  /** Store of the reference model's losses. */
  scoresDir: string;
  /** Store of the training model's losses over the same corpus, tokenizer and sequence length. */
  modelScoresDir: string;
  /** The parquet file to write. */
  out: string;
  /** Keep this share of the scored documents (in (0, 1]); or give `threshold`. */
  ratio?: number;
  /** Keep documents whose score is ≥ this. */
  threshold?: number;
  by?: DocumentScoreBy;
  /** Token-level selection ratio behind `fraction-selected` and `rho1_selected_fraction` (default 0.6). */
  tokenRatio?: number;
  /** One line per stage (default: stderr). */
  log?: (line: string) => void;
}

export interface SelectDocumentsSummary {
  out: string;
  by: DocumentScoreBy;
  documents: number;
  scoredDocuments: number;
  keptDocuments: number;
  keptTokens: number;
  scoredTokens: number;
  /** The score a document needed to be kept (the ratio's cut-off, or the threshold given). */
  cutoff: number;
  /** The corpus' token-level excess threshold at tokenRatio. */
  tokenThreshold: number;
  tokenRatio: number;
}

/** Order-preserving 32-bit key of a float32 (larger float ⇒ larger key); NaN is refused before this. */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
function floatKey(x: number): number {
  F32[0] = x;
  const bits = U32[0];
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}
function keyFloat(key: number): number {
  U32[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return F32[0];
}

/** Two stores hold the same tokens: same tokenizer, packing, sequence length, sources and units. */
function checkSameTokens(ref: ScoreManifest, model: ScoreManifest, refDir: string, modelDir: string) {
  const differ = (field: string, a: unknown, b: unknown) => {
    throw new ScoreError(
      "store_mismatch",
      `${field} differs: ${refDir} has ${JSON.stringify(a)}, ${modelDir} has ${JSON.stringify(b)}; score both with the same tokenizer, --seq-len and data`,
      { file: modelDir },
    );
  };
  if (ref.tokenizer.hash !== model.tokenizer.hash)
    differ("tokenizer", ref.tokenizer.hash, model.tokenizer.hash);
  if (ref.seqLen !== model.seqLen) differ("seqLen", ref.seqLen, model.seqLen);
  if (JSON.stringify(ref.packing) !== JSON.stringify(model.packing))
    differ("packing", ref.packing, model.packing);
  if (ref.textColumn !== model.textColumn) differ("textColumn", ref.textColumn, model.textColumn);
  const sources = (m: ScoreManifest) => m.sources.map((s) => `${s.path}:${s.size}`);
  if (sources(ref).join() !== sources(model).join()) differ("sources", sources(ref), sources(model));
  if (ref.shard || model.shard) differ("shard", ref.shard, model.shard);
  if (ref.counts.sequences !== model.counts.sequences)
    differ("sequences", ref.counts.sequences, model.counts.sequences);
}

/**
 * Visits every scored token of every document: visit(doc, excess), doc = global document index. Checks that the
 * two stores' ids agree unit by unit and that no loss is non-finite.
 */
function forEachScoredToken(
  ref: ScoreStore,
  model: ScoreStore,
  visit: (doc: number, excess: number) => void,
): void {
  const T = ref.seqLen;
  ref.manifest.units.forEach((unit, u) => {
    if (unit.sequences === 0) return;
    const a: UnitView = ref.unitView(u);
    const b: UnitView = model.unitView(u);
    if (
      Buffer.compare(
        Buffer.from(a.ids.buffer, a.ids.byteOffset, a.ids.byteLength),
        Buffer.from(b.ids.buffer, b.ids.byteOffset, b.ids.byteLength),
      ) !== 0
    ) {
      throw new ScoreError("store_mismatch", `unit ${unit.path}: the two stores hold different token ids`);
    }
    for (let d = 0; d < a.docs.length / 3; d++) {
      const start = a.docs[3 * d] * T + a.docs[3 * d + 1];
      const end = start + a.docs[3 * d + 2];
      for (let p = start + 1; p < end; p++) {
        const t = p % T;
        if (t === 0) continue;
        const i = Math.floor(p / T) * (T - 1) + t - 1;
        const excess = (b.loss[i] as number) - (a.loss[i] as number);
        if (!Number.isFinite(excess)) {
          throw new ScoreError(
            "non_finite",
            `row ${Math.floor(p / T)} position ${t}: loss is not finite (reference ${a.loss[i]}, model ${b.loss[i]})`,
            { file: unit.path },
          );
        }
        visit(unit.firstDocument + d, excess);
      }
    }
  });
}

/** The exact k-th largest token excess (k ≥ 1) by a two-pass radix select over 16-bit halves of the float key. */
function kthLargestExcess(ref: ScoreStore, model: ScoreStore, k: number): number {
  const high = new Float64Array(65536);
  forEachScoredToken(ref, model, (_, x) => {
    high[floatKey(x) >>> 16]++;
  });
  let bucket = 65535;
  let above = 0;
  while (bucket > 0 && above + high[bucket] < k) above += high[bucket--];
  const low = new Float64Array(65536);
  forEachScoredToken(ref, model, (_, x) => {
    const key = floatKey(x);
    if (key >>> 16 === bucket) low[key & 0xffff]++;
  });
  let rest = k - above;
  let lo = 65535;
  while (lo > 0 && low[lo] < rest) rest -= low[lo--];
  return keyFloat(((bucket << 16) | lo) >>> 0);
}

/** Output columns: the first parquet source's flat columns, or OpenWebMath's for JSON-lines input. */
function outputSchema(files: InputFile[], textColumn: string) {
  type Element = ConstructorParameters<typeof ParquetWriter>[0]["schema"][number];
  const parquet = files.find((f) => f.kind === "parquet");
  let columns: Element[];
  if (parquet?.metadata) {
    const schema = parquet.metadata.schema;
    columns = [];
    for (let i = 1; i < schema.length; i++) {
      const e = schema[i];
      if (e.num_children) {
        throw new ScoreError(
          "unsupported_column",
          `column '${e.name}' is nested; select copies flat columns only`,
          {
            file: parquet.path,
          },
        );
      }
      columns.push({ ...(e as Element), repetition_type: "OPTIONAL" });
    }
  } else {
    columns = ["url", textColumn, "date", "metadata"].map((name) => ({
      name,
      type: "BYTE_ARRAY" as const,
      converted_type: "UTF8" as const,
      repetition_type: "OPTIONAL" as const,
    }));
  }
  for (const f of files) {
    if (f.kind !== "parquet" || !f.metadata || f === parquet) continue;
    const names = f.metadata.schema
      .slice(1)
      .map((e) => e.name)
      .join();
    if (names !== columns.map((c) => c.name).join()) {
      throw new ScoreError(
        "schema_mismatch",
        `columns ${names}, expected ${columns.map((c) => c.name).join()} (as ${parquet?.path})`,
        { file: f.path },
      );
    }
  }
  const added: Element[] = [
    { name: "rho1_excess", type: "DOUBLE", repetition_type: "OPTIONAL" },
    { name: "rho1_tokens", type: "INT32", repetition_type: "REQUIRED" },
    { name: "rho1_selected_fraction", type: "DOUBLE", repetition_type: "OPTIONAL" },
  ];
  return {
    columns,
    schema: [
      { name: "schema", num_children: columns.length + added.length } as Element,
      ...columns,
      ...added,
    ],
  };
}

/** A JSON-lines record's value for a string column of the output. */
function stringValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

export async function selectDocuments(options: SelectDocumentsOptions): Promise<SelectDocumentsSummary> {
  const { out, by = "mean", tokenRatio = 0.6 } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`select: ${line}\n`));
  if ((options.ratio === undefined) === (options.threshold === undefined)) {
    throw new ScoreError("bad_option", "give exactly one of ratio and threshold");
  }
  if (options.ratio !== undefined && !(options.ratio > 0 && options.ratio <= 1)) {
    throw new ScoreError("bad_option", `ratio must be in (0, 1], found ${options.ratio}`);
  }
  if (!(tokenRatio > 0 && tokenRatio <= 1)) {
    throw new ScoreError("bad_option", `tokenRatio must be in (0, 1], found ${tokenRatio}`);
  }
  const ref = ScoreStore.open(options.scoresDir);
  const model = ScoreStore.open(options.modelScoresDir);
  checkSameTokens(ref.manifest, model.manifest, options.scoresDir, options.modelScoresDir);
  const D = ref.manifest.counts.documents;
  if (D === 0) throw new ScoreError("empty_input", "no documents in the store", { file: options.scoresDir });

  // Pass 1: per-document excess sums and counts.
  const sums = new Float64Array(D);
  const counts = new Float64Array(D);
  let scoredTokens = 0;
  forEachScoredToken(ref, model, (doc, x) => {
    sums[doc] += x;
    counts[doc]++;
    scoredTokens++;
  });
  if (scoredTokens === 0)
    throw new ScoreError("empty_input", "no scored tokens in the store", { file: options.scoresDir });
  // Passes 2-3: the corpus' token threshold, then each document's share of tokens at or above it.
  const tokenThreshold = kthLargestExcess(ref, model, Math.max(1, Math.floor(tokenRatio * scoredTokens)));
  const above = new Float64Array(D);
  forEachScoredToken(ref, model, (doc, x) => {
    if (x >= tokenThreshold) above[doc]++;
  });
  const score = new Float64Array(D);
  let scoredDocuments = 0;
  for (let d = 0; d < D; d++) {
    if (counts[d] === 0) {
      score[d] = Number.NaN;
      continue;
    }
    scoredDocuments++;
    score[d] = by === "sum" ? sums[d] : by === "mean" ? sums[d] / counts[d] : above[d] / counts[d];
  }
  const keep = new Uint8Array(D);
  let cutoff: number;
  if (options.ratio !== undefined) {
    const order = Array.from({ length: D }, (_, d) => d).filter((d) => counts[d] > 0);
    order.sort((a, b) => score[b] - score[a] || a - b);
    const k = Math.max(1, Math.floor(options.ratio * scoredDocuments));
    for (const d of order.slice(0, k)) keep[d] = 1;
    cutoff = score[order[k - 1]];
  } else {
    cutoff = options.threshold as number;
    for (let d = 0; d < D; d++) if (counts[d] > 0 && score[d] >= cutoff) keep[d] = 1;
  }
  log(`${scoredDocuments} documents scored (${scoredTokens} tokens); keeping those with ${by} ≥ ${cutoff}`);

  // Output: the input again, row group by row group, keeping the selected documents' records as they were.
  const files = await planInputs(
    ref.manifest.sources.map((s) => s.path),
    ref.manifest.textColumn,
    ref.manifest.jsonlUnitBytes,
  );
  files.forEach((f, i) => {
    const recorded = ref.manifest.sources[i];
    if (
      f.size !== recorded.size ||
      JSON.stringify(f.units.map((u) => [u.start, u.end])) !== JSON.stringify(recorded.units)
    ) {
      throw new ScoreError(
        "source_changed",
        `size or row groups differ from when it was scored (${recorded.size} bytes then, ${f.size} now)`,
        { file: f.path },
      );
    }
  });
  const { columns, schema } = outputSchema(files, ref.manifest.textColumn);
  const settings = {
    schema,
    codec: "ZSTD" as const,
    kvMetadata: [
      {
        key: "rho1.select",
        value: JSON.stringify({
          by,
          ratio: options.ratio ?? null,
          threshold: options.threshold ?? null,
          tokenRatio,
          cutoff,
          tokenThreshold,
        }),
      },
    ],
    createdBy: "rho1 select",
  };
  let keptDocuments = 0;
  let keptTokens = 0;
  await writeParquetOutput(out, "rho1 select", settings, async (writer) => {
    for (const unit of ref.manifest.units) {
      const file = files[unit.file];
      const input = file.units[unit.index];
      const records = await readUnitRecords(file, input, ref.manifest.textColumn);
      const kept: Record<string, unknown>[] = [];
      const stats: [number, number, number][] = [];
      let doc = unit.firstDocument;
      let skipped = 0;
      for (const record of records) {
        const text = record[ref.manifest.textColumn];
        if (text === null || text === undefined || (text as string).trim() === "") {
          skipped++;
          continue;
        }
        if (keep[doc]) {
          kept.push(record);
          stats.push([sums[doc] / counts[doc], counts[doc], above[doc] / counts[doc]]);
          keptTokens += counts[doc];
        }
        doc++;
      }
      if (doc - unit.firstDocument !== unit.documents || skipped !== unit.skipped) {
        throw new ScoreError(
          "source_changed",
          `row group ${unit.index} now holds ${doc - unit.firstDocument} documents (${skipped} empty); ${unit.documents} (${unit.skipped}) when scored`,
          { file: file.path, rowGroup: unit.index },
        );
      }
      if (kept.length === 0) continue;
      keptDocuments += kept.length;
      const data = columns.map((c) => ({
        name: c.name,
        data: kept.map((r) => (file.kind === "parquet" ? (r[c.name] ?? null) : stringValue(r[c.name]))),
      }));
      writer.write({
        columnData: [
          ...data,
          { name: "rho1_excess", data: stats.map((s) => s[0]) },
          { name: "rho1_tokens", data: stats.map((s) => s[1]) },
          { name: "rho1_selected_fraction", data: stats.map((s) => s[2]) },
        ],
        rowGroupSize: kept.length,
      });
    }
  });
  log(`kept ${keptDocuments} of ${D} documents (${keptTokens} of ${scoredTokens} scored tokens) → ${out}`);
  return {
    out,
    by,
    documents: D,
    scoredDocuments,
    keptDocuments,
    keptTokens,
    scoredTokens,
    cutoff,
    tokenThreshold,
    tokenRatio,
  };
}
