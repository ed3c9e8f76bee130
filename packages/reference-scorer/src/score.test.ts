import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OwmRow, writeOwmParquet } from "./build-corpus.ts";
import { ScoreError } from "./errors.ts";
import { readTextDocuments } from "./input.ts";
import { HISTOGRAM_EDGES } from "./manifest.ts";
import { mergeScores } from "./merge.ts";
import { packDocuments } from "./pack.ts";
import { type ProgressSnapshot, progressLine } from "./progress.ts";
import { scoreCorpus } from "./score.ts";
import { ScoreStore } from "./store.ts";
import { fakeLoss, fakeScorer, fakeTokenizer } from "./testing/fakes.ts";
import { treeDigest } from "./testing/tree.ts";

const ROOT = join(import.meta.dir, "../../..");
const MODEL = join(ROOT, "models/stories260K");
const SAMPLE = join(ROOT, "data/corpus/owm-sample.parquet");
let dir: string;
let rows: OwmRow[];
let inputs: string[];

const run = (outDir: string, extra: Partial<Parameters<typeof scoreCorpus>[0]> = {}) =>
  scoreCorpus({
    modelDir: MODEL,
    data: inputs,
    outDir,
    seqLen: 64,
    batchSize: 4,
    tokenizer: fakeTokenizer(),
    scorer: fakeScorer(),
    progress: null,
    ...extra,
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rho1-score-"));
  rows = [];
  for await (const doc of readTextDocuments(SAMPLE)) {
    rows.push({ url: `u${rows.length}`, text: (doc.text as string).slice(0, 300), date: "", metadata: "{}" });
  }
  rows[3].text = "   \n";
  rows[7].text = "";
  const a = join(dir, "a.parquet");
  const b = join(dir, "b.parquet");
  const c = join(dir, "c.jsonl");
  await writeOwmParquet(rows.slice(0, 60), a, { codec: "SNAPPY", rowGroupSize: 16 });
  await writeOwmParquet(rows.slice(60, 100), b, { codec: "ZSTD", rowGroupSize: 9 });
  await writeFile(
    c,
    `${rows
      .slice(100, 130)
      .map((r) => JSON.stringify({ text: r.text }))
      .join("\n")}\n`,
  );
  inputs = [a, b, c];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("scoreCorpus with a stand-in model", () => {
  test("stores every packed row with its losses; manifest counts and stats add up", async () => {
    const out = join(dir, "full");
    const m = await run(out);
    expect((await readdir(out)).sort()).toEqual(["manifest.json", "units"]);
    expect(m.counts.units).toBe(4 + 5 + 1);
    expect(m.counts.rows).toBe(130);
    expect(m.counts.skippedDocuments).toBe(2);
    expect(m.counts.documents).toBe(128);
    expect(m.shard).toBeNull();
    expect(m.sources.map((s) => s.units.length)).toEqual([4, 5, 1]);
    expect(m.sources[1].units[4]).toEqual([36, 40]);
    expect(m.tokenizer.hash).toBe("fake-tokenizer");
    expect(m.model.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.model.vocabSize).toBe(512);

    // Expected rows: pack each unit on its own (unit = row group).
    const tok = fakeTokenizer();
    const groups = [
      [0, 16],
      [16, 32],
      [32, 48],
      [48, 60],
      [60, 69],
      [69, 78],
      [78, 87],
      [87, 96],
      [96, 100],
      [100, 130],
    ];
    const expected = groups.map(([s, e]) =>
      packDocuments(
        rows.slice(s, e).map((r) => r.text),
        tok,
        { seqLen: 64 },
      ),
    );
    expect(m.counts.sequences).toBe(expected.reduce((n, p) => n + p.numSequences, 0));
    expect(m.counts.tokens).toBe(expected.reduce((n, p) => n + p.tokens, 0));

    const store = ScoreStore.open(out);
    expect(store.numSequences).toBe(m.counts.sequences);
    let i = 0;
    let lossSum = 0;
    let valid = 0;
    for (const p of expected) {
      for (let r = 0; r < p.numSequences; r++, i++) {
        const seq = store.sequence(i);
        const want = p.ids.subarray(r * 64, (r + 1) * 64);
        expect(Array.from(seq.ids)).toEqual(Array.from(want));
        expect(seq.length).toBe(p.lengths[r]);
        for (let t = 0; t < 63; t++) {
          const isValid = t + 1 < p.lengths[r] ? 1 : 0;
          expect(seq.valid[t]).toBe(isValid);
          expect(seq.refLoss[t]).toBe(isValid ? Math.fround(fakeLoss(want, t)) : 0);
          if (isValid) {
            lossSum += seq.refLoss[t];
            valid++;
          }
        }
      }
    }
    expect(m.counts.validTokens).toBe(valid);
    expect(m.stats.meanLoss).toBeCloseTo(lossSum / valid, 10);
    expect(m.stats.histogram.edges).toEqual(HISTOGRAM_EDGES);
    expect(m.stats.histogram.counts.reduce((a, b) => a + b, 0)).toBe(valid);
    expect(m.stats.perSource.map((s) => s.rows)).toEqual([60, 40, 30]);
    expect(store.sequence(0).source).toEqual({ file: 0, unit: 0 });
    expect(store.sequence(store.numSequences - 1).source).toEqual({ file: 2, unit: 0 });
    expect(store.documentsIn(0)[0]).toEqual([0, expected[0].docs[2]]);
    expect(() => store.sequence(store.numSequences)).toThrow(RangeError);
  });

  test("ScoreStore.open refuses a folder without a finished manifest, or a foreign one", async () => {
    const empty = join(dir, "no-store");
    expect(() => ScoreStore.open(empty)).toThrow("no manifest.json: not a finished score store");
    const foreign = join(dir, "foreign-store");
    await mkdir(foreign);
    await writeFile(join(foreign, "manifest.json"), '{"format": "other", "version": 1}');
    expect(() => ScoreStore.open(foreign)).toThrow("format other v1, expected rho1-score-store v1");
    await writeFile(join(foreign, "manifest.json"), "{");
    expect(() => ScoreStore.open(foreign)).toThrow("manifest is not valid JSON");
  });

  test("a finished store is not rescored; rerunning is a no-op with the same manifest", async () => {
    const out = join(dir, "again");
    const scorer = fakeScorer();
    const first = await run(out, { scorer });
    const before = treeDigest(out);
    const calls = scorer.calls;
    expect(calls).toBeGreaterThan(0);
    const second = await run(out, { scorer });
    expect(second).toEqual(first);
    expect(scorer.calls).toBe(calls);
    expect(treeDigest(out)).toEqual(before);
  });

  test("f16 losses", async () => {
    const m = await run(join(dir, "f16"), { lossDtype: "f16" });
    const full = ScoreStore.open(join(dir, "full"));
    const half = ScoreStore.open(join(dir, "f16"));
    expect(m.lossDtype).toBe("f16");
    for (const i of [0, 5, half.numSequences - 1]) {
      const a = full.sequence(i).refLoss;
      const b = half.sequence(i).refLoss;
      expect(b).toBeInstanceOf(Float32Array);
      for (let t = 0; t < a.length; t++) expect(Math.abs(a[t] - b[t])).toBeLessThanOrEqual(a[t] * 2 ** -11);
    }
  });

  test("n shards merged equal the single-process store byte for byte", async () => {
    const single = treeDigest(join(dir, "full"));
    for (const n of [2, 3]) {
      const dirs: string[] = [];
      for (let i = 0; i < n; i++) {
        const d = join(dir, `shard-${n}-${i}`);
        const m = await run(d, { shard: { index: i, count: n } });
        expect(m.shard).toEqual({ index: i, count: n });
        dirs.push(d);
      }
      const merged = join(dir, `merged-${n}`);
      await mergeScores(dirs.reverse(), merged); // order of arguments does not matter
      expect(treeDigest(merged)).toEqual(single);
    }
    // merge in place into the first shard's directory
    await mergeScores([join(dir, "shard-2-0"), join(dir, "shard-2-1")]);
    expect(treeDigest(join(dir, "shard-2-0"))).toEqual(single);
  });

  test("merge refuses missing shards and mismatched stores", async () => {
    const error = await mergeScores(
      [join(dir, "shard-3-0"), join(dir, "shard-3-2")],
      join(dir, "m-bad"),
    ).catch((e) => e);
    expect(error.code).toBe("incomplete");
    expect(error.message).toContain("have shards 0/3, 2/3");
    const mismatch = await mergeScores([join(dir, "full"), join(dir, "f16")], join(dir, "m-bad2")).catch(
      (e) => e,
    );
    expect(mismatch.code).toBe("store_mismatch");
    expect(mismatch.message).toContain("lossDtype");
    const occupied = await mergeScores(
      [join(dir, "shard-3-0"), join(dir, "shard-3-1"), join(dir, "shard-3-2")],
      join(dir, "f16"),
    ).catch((e) => e);
    expect(occupied.code).toBe("store_mismatch");
    expect(occupied.message).toContain("--out holds another finished store");
  });

  test("rerunning into a store with other settings is refused", async () => {
    const error = await run(join(dir, "full"), { seqLen: 32 }).catch((e) => e);
    expect(error).toBeInstanceOf(ScoreError);
    expect(error.code).toBe("store_mismatch");
    expect(error.message).toContain("seqLen: 64 vs 32");
  });
});

describe("bad input and model mismatch", () => {
  test("tokenizer vocabulary larger than the model's", async () => {
    const error = await run(join(dir, "v1"), { tokenizer: fakeTokenizer({ vocabSize: 32000 }) }).catch(
      (e) => e,
    );
    expect(error.code).toBe("vocab_mismatch");
    expect(error.message).toContain("has 32000 tokens, the model only 512");
  });

  test("a token id outside the model's vocabulary names file and row group", async () => {
    const tokenizer = fakeTokenizer({ encodeCorpus: (t) => t.map((s) => (s.includes("$") ? [600] : [5])) });
    const error = await run(join(dir, "v2"), { tokenizer }).catch((e) => e);
    expect(error.code).toBe("vocab_mismatch");
    expect(error.message).toMatch(
      /a\.parquet \(row group \d\): token id 600 is outside the model's vocabulary \(512\)/,
    );
  });

  test("a corrupt row group stops the run; finished units stay valid and the rerun resumes", async () => {
    const good = join(dir, "g.parquet");
    await writeOwmParquet(rows.slice(0, 80), good, { codec: "ZSTD", rowGroupSize: 20 });
    const bytes = await Bun.file(good).bytes();
    const { planInputs } = await import("./input.ts");
    const [file] = await planInputs([good]);
    const at = Number(file.metadata?.row_groups[2].columns[1].meta_data?.data_page_offset) + 40;
    const corrupt = bytes.slice();
    for (let i = at; i < at + 64; i++) corrupt[i] ^= 0x5a;
    const path = join(dir, "g2.parquet");
    await writeFile(path, corrupt);
    const out = join(dir, "corrupt");
    const error = await run(out, { data: [path] }).catch((e) => e);
    expect(error.code).toBe("corrupt_input");
    expect(error.message).toContain(`${path} (row group 2)`);
    expect((await readdir(join(out, "units"))).sort()).toEqual(["00000-000000.bin", "00000-000001.bin"]);
    // Same file repaired in place (same size, same plan): the rerun keeps units 0-1 and finishes.
    await writeFile(path, bytes);
    const m = await run(out, { data: [path] });
    expect(m.counts.units).toBe(4);
    const fresh = await run(join(dir, "corrupt-fresh"), { data: [path] });
    expect(m).toEqual(fresh);
  });

  test("a resumed run's tok/s and ETA count only the tokens and units it scores itself", async () => {
    const out = join(dir, "progress-resume");
    const crashing = fakeScorer();
    const score = crashing.score;
    crashing.score = (...args) => {
      if (crashing.calls === 60) throw new Error("simulated crash");
      return score(...args);
    };
    await expect(run(out, { scorer: crashing })).rejects.toThrow("simulated crash");
    const resumedUnits = (await readdir(join(out, "units"))).length;
    expect(resumedUnits).toBeGreaterThanOrEqual(2);
    const lines: string[] = [];
    const seen: ProgressSnapshot[] = [];
    const m = await run(out, {
      progress: (line, snapshot) => {
        lines.push(line);
        seen.push(snapshot);
      },
      progressIntervalMs: 0,
    });
    const fresh = await run(join(dir, "progress-fresh"));
    expect(m).toEqual(fresh);
    expect(lines[0]).toMatch(
      new RegExp(`^score: resuming: ${resumedUnits} of 10 units already scored \\([\\d,]+ tokens\\)`),
    );
    const resumedTokens = Number(/\(([\d,]+) tokens\)/.exec(lines[0] as string)?.[1].replaceAll(",", ""));
    // Skipping the scored units is no progress of this run: no rate, no ETA (it used to extrapolate from them).
    const skipped = seen.slice(1, 1 + resumedUnits);
    expect(skipped.map((s) => s.unitsDone)).toEqual(Array.from({ length: resumedUnits }, (_, i) => i + 1));
    expect(skipped.every((s) => s.runFraction === 0 && s.tokensThisRun === 0 && s.fraction > 0)).toBe(true);
    expect(lines.slice(1, 1 + resumedUnits).every((l) => / 0 tok\/s .* ETA \?$/.test(l))).toBe(true);
    const last = seen.at(-1) as ProgressSnapshot;
    expect(last.tokens).toBe(m.counts.tokens);
    expect(last.tokensThisRun).toBe(m.counts.tokens - resumedTokens);
    expect(last.runFraction).toBe(1);
    expect(lines.at(-1)).toEndWith("100.0%  ETA 0s");
    for (let i = 1; i < seen.length; i++)
      expect((seen[i] as ProgressSnapshot).runFraction).toBeGreaterThanOrEqual(
        (seen[i - 1] as ProgressSnapshot).runFraction,
      );
  });

  test("progress line: rate from this run's tokens, ETA from this run's share of its own work", () => {
    // Resumed at 50% of the store; in 10 s this run scored 1,000 tokens and half of what was left.
    const snapshot = { unitsDone: 7, unitsTotal: 10, documents: 90, tokens: 3000, fraction: 0.75 };
    expect(progressLine({ ...snapshot, tokensThisRun: 1000, runFraction: 0.5 }, 10)).toBe(
      "score: unit 7/10  docs 90  tokens 3,000  100 tok/s  75.0%  ETA 10s",
    );
    expect(progressLine({ ...snapshot, tokensThisRun: 1000, runFraction: 0.25 }, 10)).toEndWith("ETA 30s");
    expect(progressLine({ ...snapshot, tokensThisRun: 0, runFraction: 0 }, 10)).toEndWith(
      "0 tok/s  75.0%  ETA ?",
    );
    expect(progressLine({ ...snapshot, fraction: 1, tokensThisRun: 0, runFraction: 1 }, 0)).toEndWith(
      "100.0%  ETA 0s",
    );
  });

  test("seqLen defaults to the model's max_position_embeddings (stories260K: 512), capped at 2048", async () => {
    const m = await run(join(dir, "default-len"), { seqLen: undefined, data: [inputs[2] as string] });
    expect(m.seqLen).toBe(512);
    const big = join(dir, "big-model");
    await mkdir(big);
    await writeFile(
      join(big, "config.json"),
      JSON.stringify({
        ...JSON.parse(await Bun.file(join(MODEL, "config.json")).text()),
        max_position_embeddings: 32768,
      }),
    );
    const capped = await run(join(dir, "capped-len"), {
      seqLen: undefined,
      modelDir: big,
      data: [inputs[2] as string],
    });
    expect(capped.seqLen).toBe(2048);
  });

  test("bad options", async () => {
    expect((await run(join(dir, "o"), { seqLen: 1 }).catch((e) => e)).message).toContain(
      "seqLen must be an integer >= 2",
    );
    expect((await run(join(dir, "o"), { shard: { index: 3, count: 3 } }).catch((e) => e)).message).toContain(
      "got 3/3",
    );
    expect((await run(join(dir, "o"), { modelDir: join(dir, "none") }).catch((e) => e)).code).toBe(
      "missing_model",
    );
  });
});
