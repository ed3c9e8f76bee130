/**
 * What store verification costs: `rho1 train --ref-scores` checks every unit's sha256 and finite losses before the
 * first step (the default); `--no-verify` checks sizes only, and each unit's layout and losses on first use. Both
 * are measured in the same run, rounds alternating: the time to open the store, and a short training run on it.
 * The store is made with the stand-in scorer (its losses are a hash, the bytes are what matter) so that it can be
 * large: verification reads the whole store, training reads a few rows.
 *
 *   bun benchmarks/verify/run.ts [--mb 200] [--steps 20] [--rounds 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScoreStore, scoreCorpus, writeOwmParquetGroups } from "@rho1/reference-scorer";
import { train } from "@rho1/train";
import { fakeScorer, fakeTokenizer } from "../../packages/reference-scorer/src/testing/fakes.ts";
import { applyBenchEnv, describeMachine, median, STORIES, setupOurs } from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    mb: { type: "string", default: "200" },
    steps: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
  },
  {
    usage:
      "Cost of verifying a score store before training (sha256 + finite losses of every unit) vs --no-verify: store open time and a short --ref-scores training run, same run, ratio last.",
    describe: {
      mb: "store size to build, in MB (about 8 bytes per token)",
      steps: "training steps per run",
      rounds: "rounds alternating verify and --no-verify (medians reported)",
    },
  },
);
const steps = Number(values.steps);
const rounds = Number(values.rounds);

console.log(describeMachine());
applyBenchEnv();
console.log(`backend: ${await setupOurs()}; folder: ${tmpdir()}`);

const dir = mkdtempSync(join(tmpdir(), "rho1-bench-verify-"));
try {
  // Text whose bytes are stories260K token ids under the stand-in tokenizer (one token per byte, id 3 + byte % 253),
  // so the model trains on the store as it would on a real one; ~8 store bytes per text byte at seqLen 128.
  const text = (g: number, i: number) => `${g}.${i} Once upon a time there was a little dog. `.repeat(20);
  const textBytes = Number(values.mb) * 1e6 * (1 / 8);
  const groups = function* () {
    for (let g = 0, written = 0; written < textBytes; g++) {
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        url: `u${g}.${i}`,
        text: text(g, i),
        date: "",
        metadata: "{}",
      }));
      written += rows.reduce((s, r) => s + r.text.length, 0);
      yield rows;
    }
  };
  const data = join(dir, "corpus.parquet");
  await writeOwmParquetGroups(groups(), data, { codec: "ZSTD" });
  const store = join(dir, "store");
  const manifest = await scoreCorpus({
    modelDir: STORIES,
    data: [data],
    outDir: store,
    seqLen: 128,
    batchSize: 64,
    tokenizer: {
      ...fakeTokenizer(),
      hash: (await import("@rho1/tokenizer").then((t) => t.loadTokenizer(STORIES))).hash,
    },
    scorer: fakeScorer(512),
    progress: null,
  });
  const storeBytes = manifest.units.reduce((s, u) => s + u.bytes, 0);
  console.log(
    `store: ${(storeBytes / 1e6).toFixed(0)} MB, ${manifest.counts.units} units, ${manifest.counts.sequences.toLocaleString("en-US")} rows of 128`,
  );

  const openTime = (verify: boolean) => {
    const t0 = performance.now();
    ScoreStore.open(store, { verify }).close();
    return (performance.now() - t0) / 1000;
  };
  const trainTime = async (verify: boolean, round: number) => {
    const out = join(dir, `train-${verify}-${round}`);
    const t0 = performance.now();
    await train({
      modelDir: STORIES,
      data: [data],
      refScores: store,
      verifyScores: verify,
      outDir: out,
      seqLen: 128,
      batchSize: 8,
      steps,
      saveEvery: 0,
      lr: 1e-3,
      progress: null,
    });
    rmSync(out, { recursive: true, force: true });
    return (performance.now() - t0) / 1000;
  };

  openTime(true); // warm: the store in the page cache, as on a second run
  await trainTime(false, -1);
  const open = { verify: [] as number[], noVerify: [] as number[] };
  const run = { verify: [] as number[], noVerify: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const verify of round % 2 === 0 ? [true, false] : [false, true]) {
      (verify ? open.verify : open.noVerify).push(openTime(verify));
      (verify ? run.verify : run.noVerify).push(await trainTime(verify, round));
    }
  }
  const [openV, openN, runV, runN] = [open.verify, open.noVerify, run.verify, run.noVerify].map(median);
  console.log("\n| measure | verify (default) s | --no-verify s | verify ÷ no-verify |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(
    `| open the store | ${openV.toFixed(3)} | ${openN.toFixed(4)} | ${(openV / openN).toFixed(0)} |`,
  );
  console.log(
    `| train ${steps} steps of 8×128 on it (open included) | ${runV.toFixed(2)} | ${runN.toFixed(2)} | ${(runV / runN).toFixed(3)} |`,
  );
  console.log(
    `\nverification reads ${(storeBytes / 1e9 / openV).toFixed(2)} GB/s (page-cached store); it adds ${(openV - openN).toFixed(2)} s once per run ≈ ${((openV - openN) / ((runN - openN) / steps)).toFixed(1)} steps at this run's mean time per step (start-up included) (rounds, verify: ${run.verify.map((x) => x.toFixed(2)).join(", ")}; no-verify: ${run.noVerify.map((x) => x.toFixed(2)).join(", ")})`,
  );
  console.log(`ratio (verify ÷ --no-verify, ${steps}-step training run): ${(runV / runN).toFixed(3)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
