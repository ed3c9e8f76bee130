/**
 * Data-parallel training is exact: `mpirun -np 2` with micro-batches of m sequences equals one process with
 * gradient accumulation 2 (the same 2m sequences per step), for plain causal LM and for SLM at ratio 0.6 with
 * batch-scope selection: the same selection masks, losses and statistics at every one of 10 steps and the same
 * final weights (within 1e-6 relative; in fact bit for bit). A 2-rank run killed after its checkpoint at step 5
 * resumes in one process to the same weights. Needs Open MPI (.ci/run installs it; never skipped under CI).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors } from "@rho1/safetensors";
import type { StepMetrics } from "./report.ts";

const MODEL = join(import.meta.dir, "../../../models/stories260K");
const CHILD = join(import.meta.dir, "testing/train-child.ts");
const MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"];
const STEPS = 10;
const m = 2; // sequences per micro-batch

const mpiMissing = !Bun.which("mpirun") || !Bun.which("mpicc");
if (mpiMissing && process.env.CI) throw new Error("CI must run the MPI test: mpirun/mpicc missing");
if (mpiMissing) console.warn("skipping the MPI training test: install openmpi-bin libopenmpi-dev");

const work = mkdtempSync(join(tmpdir(), "rho1-mpi-train-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const data = join(work, "stories.jsonl");
const scores = join(work, "scores");

interface RankReport {
  rank: number;
  size: number;
  steps: { metrics: StepMetrics; selected: number[][] }[];
}

/** Runs train-child.ts, under mpirun -np 2 when `mpi`; returns each rank's report. */
function run(
  name: string,
  mpi: boolean,
  options: Record<string, unknown>,
  crashAtStep?: number,
): RankReport[] {
  const report = join(work, name);
  const args = JSON.stringify({
    options: {
      modelDir: MODEL,
      data: [data],
      outDir: join(work, `${name}-out`),
      lr: 3e-3,
      warmup: 2,
      steps: STEPS,
      seed: 3,
      batchSize: m,
      gradAccum: mpi ? 1 : 2,
      ...options,
    },
    report,
    crashAtStep,
  });
  // One BLAS thread per process: both runs do the same arithmetic, and 2 ranks fit 2 cores.
  const env = { ...process.env, RHO1_THREADS: "1" };
  const proc = Bun.spawnSync([...(mpi ? MPIRUN : []), "bun", CHILD, args], {
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (crashAtStep === undefined && proc.exitCode !== 0) {
    throw new Error(`${name} exited ${proc.exitCode}:\n${proc.stderr.toString().slice(-3000)}`);
  }
  return Array.from({ length: mpi ? 2 : 1 }, (_, r) =>
    JSON.parse(readFileSync(`${report}.rank${r}.json`, "utf8")),
  );
}

function weights(dir: string): Map<string, Float32Array> {
  const f = openSafetensors(join(dir, "model.safetensors"));
  const out = new Map(f.names.map((n) => [n, Float32Array.from(f.readFloat32(n))]));
  f.close();
  return out;
}

/** Largest |a − b| / max(|b|, 1e-3) over every weight. */
function maxRelativeDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, x] of a) {
    const y = b.get(name) as Float32Array;
    for (let i = 0; i < x.length; i++) {
      worst = Math.max(
        worst,
        Math.abs((x[i] as number) - (y[i] as number)) / Math.max(Math.abs(y[i] as number), 1e-3),
      );
    }
  }
  return worst;
}

function expectSameTraining(single: RankReport[], ranks: RankReport[]) {
  const [one] = single as [RankReport];
  expect(ranks.map((r) => [r.rank, r.size])).toEqual([
    [0, 2],
    [1, 2],
  ]);
  expect(one.steps.length).toBe(STEPS);
  for (const r of ranks) {
    expect(r.steps.length).toBe(STEPS);
    // Global metrics on every rank, equal to the single process's (bar the wall-clock rate).
    const strip = (x: StepMetrics) => ({ ...x, tokens_per_s: 0 });
    expect(r.steps.map((s) => strip(s.metrics))).toEqual(one.steps.map((s) => strip(s.metrics)));
  }
  for (let s = 0; s < STEPS; s++) {
    // One process's micro-batch i is rank i's micro-batch.
    const step = one.steps[s] as RankReport["steps"][number];
    expect(step.selected.length).toBe(2);
    for (const r of ranks) expect(r.steps[s]?.selected).toEqual([step.selected[r.rank] as number[]]);
  }
}

beforeAll(async () => {
  const stories = [
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
    "Tom had a red ball. He liked to throw it to his dog, Max. Max was very happy.",
    "One day, a big bird flew into the garden. The bird was looking for food.",
    "Sue and her mom went to the store. They bought apples, milk and bread.",
    "The sun was hot. Ben wanted to swim in the lake with his friends.",
  ];
  writeFileSync(
    data,
    `${Array.from({ length: 15 }, (_, i) => JSON.stringify({ text: stories[i % 5] })).join("\n")}\n`,
  );
  const { scoreCorpus } = await import("@rho1/reference-scorer");
  await scoreCorpus({
    modelDir: MODEL,
    data: [data],
    outDir: scores,
    seqLen: 16,
    batchSize: 4,
    progress: null,
  });
}, 60_000);

describe.skipIf(mpiMissing)("mpirun -np 2 × micro-batch m == one process × grad-accum 2 × m", () => {
  test("causal LM: same metrics and masks at each of 10 steps, same weights", () => {
    const single = run("clm-1", false, { seqLen: 16 });
    const ranks = run("clm-2", true, { seqLen: 16 });
    expectSameTraining(single, ranks);
    const diff = maxRelativeDifference(
      weights(join(work, "clm-2-out/checkpoint-10")),
      weights(join(work, "clm-1-out/checkpoint-10")),
    );
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(existsSync(join(work, "clm-2-out/metrics.jsonl"))).toBe(true);
  }, 240_000);

  test("SLM ratio 0.6, batch scope: the global top-60% selection, same weights; resume on another rank count", () => {
    const slm = { refScores: scores, selectRatio: 0.6, selectScope: "batch", saveEvery: 5 };
    const single = run("slm-1", false, slm);
    const ranks = run("slm-2", true, slm);
    expectSameTraining(single, ranks);
    const first = (single[0] as RankReport).steps[0]?.metrics as StepMetrics;
    expect(first.selected_tokens).toBe(Math.max(1, Math.floor(0.6 * first.tokens))); // one k over both ranks
    const final = weights(join(work, "slm-1-out/checkpoint-10"));
    expect(maxRelativeDifference(weights(join(work, "slm-2-out/checkpoint-10")), final)).toBeLessThanOrEqual(
      1e-6,
    );

    // 2 ranks, killed at step 7 (checkpoint 5 written by rank 0), resumed by one process with grad-accum 2.
    run("slm-crash", true, slm, 7);
    expect(existsSync(join(work, "slm-crash-out/checkpoint-5"))).toBe(true);
    expect(existsSync(join(work, "slm-crash-out/checkpoint-10"))).toBe(false);
    const resumed = run("slm-resume", false, { ...slm, outDir: join(work, "slm-crash-out"), resume: true });
    expect((resumed[0] as RankReport).steps.map((s) => s.metrics.loss)).toEqual(
      (single[0] as RankReport).steps.slice(5).map((s) => s.metrics.loss),
    );
    expect(
      maxRelativeDifference(weights(join(work, "slm-crash-out/checkpoint-10")), final),
    ).toBeLessThanOrEqual(1e-6);
  }, 300_000);
});
