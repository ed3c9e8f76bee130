/**
 * End-to-end scoring throughput: parquet (ZSTD, OpenWebMath schema) -> tokens -> model -> stored losses, with
 * `scoreCorpus` exactly as `rho1 score` runs it, against PyTorch's forward (benchmarks/lib/torch_llama.py's
 * "score_rows" section) on the very rows we stored, in the same batches, in the same run. Prints where our time goes (read,
 * tokenize, model, write), the largest difference between our stored losses and PyTorch's, and the ratio last.
 *
 *   bun benchmarks/score/run.ts [--rows 600] [--seq 256] [--batch 8] [--models stories,bench]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  mapUnit,
  owmRowsFromJsonl,
  ScoreStore,
  type StageTimings,
  scoreCorpus,
  writeOwmParquet,
} from "@rho1/reference-scorer";
import {
  applyBenchEnv,
  describeMachine,
  ROOT,
  runAnchor,
  STORIES,
  saveBenchModel,
  setupOurs,
} from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    rows: { type: "string", default: "600" },
    seq: { type: "string", default: "256" },
    batch: { type: "string", default: "8" },
    models: { type: "string", default: "stories,bench" },
  },
  {
    usage:
      'End-to-end scoring tokens/s (parquet -> tokens -> model -> stored losses, scoreCorpus as `rho1 score` runs it); anchor: PyTorch\'s forward on the same rows and batches (torch_llama.py "score_rows"), same run.',
    describe: {
      rows: "rows per source",
      seq: "tokens per sequence",
      batch: "sequences per batch",
      models: "comma-separated: stories (stories260K), bench (the issue's Llama)",
    },
  },
);
const [rowsPerSource, seqLen, batchSize] = [Number(values.rows), Number(values.seq), Number(values.batch)];
const SHARED = join(ROOT, "../shared");

console.log(describeMachine());
applyBenchEnv();
console.log(`backend: ${await setupOurs()}`);

const dir = mkdtempSync(join(tmpdir(), "rho1-bench-score-"));
const ratios: string[] = [];
try {
  // The corpus: GSM8K + MATH training records as OpenWebMath-schema parquet, ZSTD, 200 rows per row group.
  const rows = [
    ...(await owmRowsFromJsonl(join(SHARED, "data/corpus/gsm8k_train.jsonl"), rowsPerSource)),
    ...(await owmRowsFromJsonl(join(SHARED, "data/corpus/math_train.jsonl"), rowsPerSource)),
  ];
  const parquet = join(dir, "corpus.parquet");
  const bytes = await writeOwmParquet(rows, parquet, { codec: "ZSTD", rowGroupSize: 200 });
  console.log(
    `corpus: ${rows.length} documents, ${(bytes / 1e6).toFixed(2)} MB parquet (ZSTD, 200 rows per row group)`,
  );

  const models: [string, string, string][] = [];
  if (values.models.includes("stories")) models.push(["stories260K", STORIES, STORIES]);
  if (values.models.includes("bench")) {
    const bench = join(dir, "bench-model");
    await saveBenchModel(bench);
    models.push(["llama h256 L4 vocab32000 (random)", bench, join(SHARED, "data/tokenizers/llama2")]);
  }
  for (const [name, modelDir, tokenizerDir] of models) {
    const out = join(
      dir,
      `store-${models.indexOf(models.find((m) => m[0] === name) as [string, string, string])}`,
    );
    const timings: StageTimings = { read: 0, tokenize: 0, model: 0, write: 0 };
    const t0 = performance.now();
    const manifest = await scoreCorpus({
      modelDir,
      tokenizerDir,
      data: [parquet],
      outDir: out,
      seqLen,
      batchSize,
      timings,
      progress: null,
    });
    const seconds = (performance.now() - t0) / 1000;
    const ours = manifest.counts.tokens / seconds;

    // The same rows, for PyTorch: concatenate the units' ids and lengths.
    const store = ScoreStore.open(out);
    const units = manifest.units.map((u) => mapUnit(join(out, u.path)));
    await Bun.write(
      join(dir, "rows.i32"),
      Buffer.concat(units.map((u) => Buffer.from(u.ids.buffer, u.ids.byteOffset, u.ids.byteLength))),
    );
    await Bun.write(
      join(dir, "lengths.u32"),
      Buffer.concat(
        units.map((u) => Buffer.from(u.lengths.buffer, u.lengths.byteOffset, u.lengths.byteLength)),
      ),
    );
    // PyTorch right before and right after ours would be ideal; ours is one long run, so the anchor runs
    // twice after it (the machine is shared: load drifts) and the faster of the two counts.
    const anchor = () => {
      const r = runAnchor({
        model: modelDir,
        score_rows: {
          ids: join(dir, "rows.i32"),
          lengths: join(dir, "lengths.u32"),
          seq: seqLen,
          batch: batchSize,
          out: join(dir, "torch.f32"),
        },
      });
      return { torch: r.torch, threads: r.threads, tokens_per_s: r.score_rows?.tokens_per_s ?? Number.NaN };
    };
    const runs = [anchor(), anchor()];
    const torch = runs[0].tokens_per_s >= runs[1].tokens_per_s ? runs[0] : runs[1];
    const torchLoss = new Float32Array(await Bun.file(join(dir, "torch.f32")).arrayBuffer());
    let maxDiff = 0;
    for (let i = 0; i < store.numSequences; i++) {
      const ref = store.sequence(i).refLoss;
      for (let t = 0; t < ref.length; t++)
        maxDiff = Math.max(maxDiff, Math.abs(ref[t] - torchLoss[i * (seqLen - 1) + t]));
    }
    const pct = (ms: number) => `${((100 * ms) / 1000 / seconds).toFixed(1)}%`;
    const other = seconds * 1000 - timings.read - timings.tokenize - timings.model - timings.write;
    console.log(
      `${name}, ${manifest.counts.sequences} rows x ${seqLen}, batch ${batchSize}: ours end-to-end ${ours.toFixed(0)} tokens/s ` +
        `(${manifest.counts.tokens} tokens in ${seconds.toFixed(1)} s; model alone ${(manifest.counts.tokens / (timings.model / 1000)).toFixed(0)} tokens/s), ` +
        `PyTorch ${torch.torch} forward ${torch.tokens_per_s.toFixed(0)} tokens/s (threads ${torch.threads}; runs ${runs.map((r) => r.tokens_per_s.toFixed(0)).join(", ")})`,
    );
    console.log(
      `  where our time goes: read ${pct(timings.read)}, tokenize ${pct(timings.tokenize)}, model ${pct(timings.model)}, ` +
        `write ${pct(timings.write)}, other (model load, hashing, manifest) ${pct(other)}; ` +
        `mean loss ${manifest.stats.meanLoss.toFixed(4)}, max |ours - PyTorch| ${maxDiff.toExponential(2)}`,
    );
    ratios.push(`${name} ${(ours / torch.tokens_per_s).toFixed(2)}x`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`ratio ours end-to-end / PyTorch forward tokens/s: ${ratios.join(", ")}`);
