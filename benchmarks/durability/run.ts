/**
 * What durable writes cost: fsync of every published file and its folder (checkpoints, score units, metrics.jsonl
 * before a checkpoint), measured against the same work with fsync off (RHO1_FSYNC=0, which keeps temp file + rename
 * but skips the syncs), in the same run, rounds alternating.
 *
 *   training: `train()` on stories260K with a checkpoint after every step (the worst case; a real run saves every
 *             few hundred steps), so the difference per checkpoint is fsync's cost, shown as a share of a step
 *             (timed in a run without checkpoints) and amortized over 100 and 1000 steps;
 *   scoring:  `scoreCorpus` with stories260K over a small parquet file, one unit file (fsync + rename) per row group.
 *
 *   bun benchmarks/durability/run.ts [--steps 12] [--rounds 3] [--rows 400]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { owmRowsFromJsonl, scoreCorpus, writeOwmParquet } from "@rho1/reference-scorer";
import { train } from "@rho1/train";
import { applyBenchEnv, describeMachine, median, ROOT, STORIES, setupOurs } from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    steps: { type: "string", default: "12" },
    rounds: { type: "string", default: "3" },
    rows: { type: "string", default: "400" },
  },
  {
    usage:
      "Cost of durable writes (fsync of each published file and its folder): training with a checkpoint every step and scoring, fsync on vs off (RHO1_FSYNC=0), same run, ratio last.",
    describe: {
      steps: "training steps per run (one checkpoint after each)",
      rounds: "rounds alternating fsync on and off (medians reported)",
      rows: "documents scored per run (the shipped math sample, repeated)",
    },
  },
);
const steps = Number(values.steps);
const rounds = Number(values.rounds);

console.log(describeMachine());
applyBenchEnv();
console.log(`backend: ${await setupOurs()}; folder: ${tmpdir()}`);

const dir = mkdtempSync(join(tmpdir(), "rho1-bench-durability-"));
const withFsync = async <T>(on: boolean, body: () => Promise<T>): Promise<T> => {
  if (on) delete process.env.RHO1_FSYNC;
  else process.env.RHO1_FSYNC = "0";
  try {
    return await body();
  } finally {
    delete process.env.RHO1_FSYNC;
  }
};
try {
  const data = join(dir, "train.jsonl");
  const texts = (await owmRowsFromJsonl(join(ROOT, "data/corpus/clean/gsm8k_train.sample.jsonl"))).map(
    (r) => r.text,
  );
  await Bun.write(data, `${texts.map((text) => JSON.stringify({ text })).join("\n")}\n`);
  const parquet = join(dir, "score.parquet");
  const rows = Array.from({ length: Number(values.rows) }, (_, i) => ({
    url: `u${i}`,
    text: `${i}: ${texts[i % texts.length]}`,
    date: "",
    metadata: "{}",
  }));
  await writeOwmParquet(rows, parquet, { codec: "ZSTD", rowGroupSize: 20 });

  const trainRun = async (on: boolean, round: number, saveEvery = 1) => {
    const out = join(dir, `train-${on ? "on" : "off"}-${saveEvery}-${round}`);
    const t0 = performance.now();
    const stepSeconds: number[] = [];
    let last = t0;
    await withFsync(on, () =>
      train({
        modelDir: STORIES,
        data: [data],
        outDir: out,
        seqLen: 128,
        batchSize: 8,
        steps,
        saveEvery,
        saveTotalLimit: 2,
        lr: 1e-3,
        progress: null,
        onStep: () => {
          const now = performance.now();
          stepSeconds.push((now - last) / 1000);
          last = now;
        },
      }),
    );
    rmSync(out, { recursive: true, force: true });
    return { total: (performance.now() - t0) / 1000, step: median(stepSeconds.slice(1)) };
  };
  const scoreRun = async (on: boolean, round: number) => {
    const out = join(dir, `score-${on ? "on" : "off"}-${round}`);
    const t0 = performance.now();
    const m = await withFsync(on, () =>
      scoreCorpus({
        modelDir: STORIES,
        data: [parquet],
        outDir: out,
        seqLen: 128,
        batchSize: 8,
        progress: null,
      }),
    );
    rmSync(out, { recursive: true, force: true });
    return { total: (performance.now() - t0) / 1000, units: m.counts.units };
  };

  await trainRun(true, -1); // warm: kernels compiled, files cached
  const trained = { on: [] as number[], off: [] as number[], bareStep: [] as number[] };
  const scored = { on: [] as number[], off: [] as number[], units: 0 };
  for (let round = 0; round < rounds; round++) {
    trained.bareStep.push((await trainRun(true, round, 0)).step); // a step without checkpoints
    for (const on of round % 2 === 0 ? [true, false] : [false, true]) {
      const t = await trainRun(on, round);
      (on ? trained.on : trained.off).push(t.total);
      const s = await scoreRun(on, round);
      (on ? scored.on : scored.off).push(s.total);
      scored.units = s.units;
    }
  }
  const [trainOn, trainOff, scoreOn, scoreOff] = [trained.on, trained.off, scored.on, scored.off].map(median);
  const perCheckpoint = (trainOn - trainOff) / steps;
  const step = median(trained.bareStep);
  console.log("\n| workload | fsync on s | fsync off s | on ÷ off |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(
    `| train, ${steps} steps of 8×128, checkpoint every step | ${trainOn.toFixed(2)} | ${trainOff.toFixed(2)} | ${(trainOn / trainOff).toFixed(3)} |`,
  );
  console.log(
    `| score, ${values.rows} documents, ${scored.units} unit files | ${scoreOn.toFixed(2)} | ${scoreOff.toFixed(2)} | ${(scoreOn / scoreOff).toFixed(3)} |`,
  );
  console.log(
    `\nfsync per checkpoint: ${(perCheckpoint * 1000).toFixed(1)} ms = ${((100 * perCheckpoint) / step).toFixed(1)}% of a ${(step * 1000).toFixed(0)} ms step (rounds: on ${trained.on.map((x) => x.toFixed(2)).join(", ")}; off ${trained.off.map((x) => x.toFixed(2)).join(", ")})`,
  );
  console.log(
    `amortized: ${((100 * perCheckpoint) / (100 * step)).toFixed(2)}% of step time with a checkpoint every 100 steps, ${((100 * perCheckpoint) / (1000 * step)).toFixed(3)}% every 1000`,
  );
  console.log(
    `ratio (fsync on ÷ off, wall time): train with a checkpoint every step ${(trainOn / trainOff).toFixed(3)}, score ${(scoreOn / scoreOff).toFixed(3)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
