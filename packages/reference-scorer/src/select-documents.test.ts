import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { type OwmRow, writeOwmParquet } from "./build-corpus.ts";
import { fileAsyncBuffer, readTextDocuments } from "./input.ts";
import type { TokenScorer } from "./model.ts";
import { scoreCorpus } from "./score.ts";
import { selectDocuments } from "./select-documents.ts";
import { ScoreStore } from "./store.ts";
import { fakeLoss, fakeScorer, fakeTokenizer } from "./testing/fakes.ts";

const ROOT = join(import.meta.dir, "../../..");
const SAMPLE = join(ROOT, "data/corpus/owm-sample.parquet");
let dir: string;
let rows: OwmRow[];
let corpus: string;

/** A second "model": the fake loss plus a per-token offset that depends on the token, so excess varies. */
function shiftedScorer(): TokenScorer {
  return {
    vocabSize: 512,
    score(ids, lengths, batch, seqLen) {
      const out = new Float32Array(batch * (seqLen - 1));
      for (let b = 0; b < batch; b++) {
        const row = ids.subarray(b * seqLen, (b + 1) * seqLen);
        for (let t = 0; t + 1 < lengths[b]; t++)
          out[b * (seqLen - 1) + t] = fakeLoss(row, t) * 0.5 + (row[t + 1] % 7);
      }
      return out;
    },
  };
}

const score = (outDir: string, scorer: TokenScorer, seqLen = 40, data = [corpus]) =>
  scoreCorpus({
    modelDir: join(ROOT, "models/stories260K"),
    data,
    outDir,
    seqLen,
    batchSize: 4,
    tokenizer: fakeTokenizer(),
    scorer,
    progress: null,
  });

const read = async (path: string) =>
  (await parquetReadObjects({ file: fileAsyncBuffer(path, Bun.file(path).size), compressors })) as Record<
    string,
    unknown
  >[];

/** Per document, its scored excesses computed straight from store.sequence and documentsIn (independently). */
function bruteForce(ref: ScoreStore, model: ScoreStore): number[][] {
  const T = ref.seqLen;
  const perDoc: number[][] = [];
  // Walk each unit's token stream: a document runs from its start to the next document's start (or its count).
  for (const unit of ref.manifest.units) {
    const starts: [number, number][] = [];
    for (let r = 0; r < unit.sequences; r++)
      for (const [pos, n] of ref.documentsIn(unit.firstSequence + r)) starts.push([r * T + pos, n]);
    for (const [start, n] of starts) {
      const xs: number[] = [];
      for (let p = start + 1; p < start + n; p++) {
        if (p % T === 0) continue;
        const i = unit.firstSequence + Math.floor(p / T);
        const t = (p % T) - 1;
        xs.push(model.sequence(i).refLoss[t] - ref.sequence(i).refLoss[t]);
      }
      perDoc.push(xs);
    }
  }
  return perDoc;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rho1-select-"));
  rows = [];
  for await (const doc of readTextDocuments(SAMPLE)) {
    rows.push({
      url: `https://example.org/${rows.length}`,
      text: (doc.text as string).slice(0, 150),
      date: `2024-01-${(rows.length % 28) + 1}`,
      metadata: JSON.stringify({ n: rows.length }),
    });
    if (rows.length === 60) break;
  }
  rows[5].text = " "; // skipped and counted, in the scorer and in select alike
  corpus = join(dir, "corpus.parquet");
  await writeOwmParquet(rows, corpus, { rowGroupSize: 16 });
  await score(join(dir, "ref"), fakeScorer());
  await score(join(dir, "model"), shiftedScorer());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("selectDocuments", () => {
  test("mean: keeps the top floor(ratio·D) documents by mean excess, records unchanged, stats exact", async () => {
    const ref = ScoreStore.open(join(dir, "ref"));
    const model = ScoreStore.open(join(dir, "model"));
    const perDoc = bruteForce(ref, model);
    expect(perDoc.length).toBe(59);
    const means = perDoc.map((xs) => xs.reduce((s, x) => s + x, 0) / xs.length);
    const order = means.map((_, d) => d).sort((a, b) => means[b] - means[a] || a - b);
    const expected = order.slice(0, Math.floor(0.4 * 59)).sort((a, b) => a - b);

    const out = join(dir, "mean.parquet");
    const summary = await selectDocuments({
      scoresDir: join(dir, "ref"),
      modelScoresDir: join(dir, "model"),
      out,
      ratio: 0.4,
      log: () => {},
    });
    expect(summary.keptDocuments).toBe(expected.length);
    const kept = await read(out);
    // documents are numbered in input order, skipping the empty row 5
    const textRows = rows.filter((r) => r.text.trim() !== "");
    expect(kept.map((r) => r.url)).toEqual(expected.map((d) => textRows[d].url));
    kept.forEach((r, i) => {
      const d = expected[i];
      expect(r).toMatchObject({
        text: textRows[d].text,
        date: textRows[d].date,
        metadata: textRows[d].metadata,
      });
      expect(r.rho1_tokens).toBe(perDoc[d].length);
      expect(r.rho1_excess as number).toBeCloseTo(means[d], 9);
    });

    // the token threshold is the exact k-th largest excess of the corpus
    const all = perDoc
      .flat()
      .map((x) => Math.fround(x))
      .sort((a, b) => b - a);
    const k = Math.floor(0.6 * all.length);
    expect(summary.tokenThreshold).toBe(all[k - 1]);
    const fractions = perDoc.map((xs) => xs.filter((x) => Math.fround(x) >= all[k - 1]).length / xs.length);
    kept.forEach((r, i) => {
      expect(r.rho1_selected_fraction as number).toBeCloseTo(fractions[expected[i]], 12);
    });
  });

  test("threshold and the other scores: sum, fraction-selected", async () => {
    const ref = ScoreStore.open(join(dir, "ref"));
    const perDoc = bruteForce(ref, ScoreStore.open(join(dir, "model")));
    const sums = perDoc.map((xs) => xs.reduce((s, x) => s + x, 0));
    const out = join(dir, "sum.parquet");
    const s = await selectDocuments({
      scoresDir: join(dir, "ref"),
      modelScoresDir: join(dir, "model"),
      out,
      threshold: 50,
      by: "sum",
      log: () => {},
    });
    expect(s.keptDocuments).toBe(sums.filter((x) => x >= 50).length);
    expect(s.keptDocuments).toBeGreaterThan(0);
    expect(s.keptDocuments).toBeLessThan(59);
    const f = await selectDocuments({
      scoresDir: join(dir, "ref"),
      modelScoresDir: join(dir, "model"),
      out: join(dir, "frac.parquet"),
      ratio: 0.25,
      by: "fraction-selected",
      tokenRatio: 0.3,
      log: () => {},
    });
    expect(f.keptDocuments).toBe(Math.floor(0.25 * 59));
    const kept = await read(join(dir, "frac.parquet"));
    const fracs = kept.map((r) => r.rho1_selected_fraction as number);
    // every kept document has at least the cut-off share
    for (const x of fracs) expect(x).toBeGreaterThanOrEqual(f.cutoff);
  });

  test("self-reference: the same model on both sides gives excess exactly 0", async () => {
    const out = join(dir, "self.parquet");
    const s = await selectDocuments({
      scoresDir: join(dir, "ref"),
      modelScoresDir: join(dir, "ref"),
      out,
      ratio: 1,
      log: () => {},
    });
    expect(s.keptDocuments).toBe(59);
    expect(s.tokenThreshold).toBe(0);
    for (const r of await read(out)) {
      expect(r.rho1_excess).toBe(0);
      expect(r.rho1_selected_fraction).toBe(1);
    }
  });

  test("stores over other tokens, changed sources and bad ratios are refused; nothing half-written", async () => {
    await score(join(dir, "other-len"), shiftedScorer(), 32);
    const out = join(dir, "bad.parquet");
    await expect(
      selectDocuments({
        scoresDir: join(dir, "ref"),
        modelScoresDir: join(dir, "other-len"),
        out,
        ratio: 0.5,
        log: () => {},
      }),
    ).rejects.toThrow(/seqLen differs: .*ref has 40, .*other-len has 32/);
    await expect(
      selectDocuments({
        scoresDir: join(dir, "ref"),
        modelScoresDir: join(dir, "model"),
        out,
        ratio: 1.5,
        log: () => {},
      }),
    ).rejects.toThrow(/ratio must be in \(0, 1\], found 1.5/);
    await expect(
      selectDocuments({
        scoresDir: join(dir, "ref"),
        modelScoresDir: join(dir, "model"),
        out,
        log: () => {},
      }),
    ).rejects.toThrow(/exactly one of ratio and threshold/);

    // a corpus rewritten after scoring (same size is not enough: the row groups differ)
    const moved = join(dir, "moved.parquet");
    await writeOwmParquet(rows, moved, { rowGroupSize: 16 });
    await score(join(dir, "ref-moved"), fakeScorer(), 40, [moved]);
    await score(join(dir, "model-moved"), shiftedScorer(), 40, [moved]);
    await writeOwmParquet(rows, moved, { rowGroupSize: 20 });
    await expect(
      selectDocuments({
        scoresDir: join(dir, "ref-moved"),
        modelScoresDir: join(dir, "model-moved"),
        out,
        ratio: 0.5,
        log: () => {},
      }),
    ).rejects.toThrow(/differ from when it was scored/);
    expect(readdirSync(dir).filter((n) => n.startsWith("bad.parquet"))).toEqual([]);
  });
});
