/**
 * Data-parallel step cost: one SLM training step (forward, backward, clip, AdamW; ratio 0.6, batch scope) of the
 * benchmark Llama (hidden 256, 4 layers, vocab 32000) on a global batch of 2·B sequences, done by one process
 * (the anchor) and by 2 MPI ranks of B sequences each, with the collectives' share of the 2-rank step (the one
 * fused gradient all-reduce, the excess-loss all-gather and the statistics, waits included). Every process gets
 * cores / ranks BLAS threads, so both runs use the same cores: on a 2-core machine this measures the cost of
 * going distributed, not a speed-up. Needs Open MPI (mpirun, mpicc).
 *
 *   bun benchmarks/distributed/run.ts [--steps N] [--batch B] [--seq T]
 */
import { join } from "node:path";
import { applyBenchEnv, benchEnv, benchThreads, describeMachine, median } from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    steps: { type: "string", default: "4" },
    batch: { type: "string", default: "4" },
    seq: { type: "string", default: "256" },
  },
  {
    usage:
      "SLM training step time on 2 MPI ranks (B sequences each) vs one process (2B sequences), and the collectives' share of the step.",
    describe: {
      steps: "timed steps per run",
      batch: "sequences per rank (one process: twice as many)",
      seq: "tokens per sequence",
    },
  },
);
const steps = Number(values.steps);
const B = Number(values.batch);
const T = Number(values.seq);

console.log(describeMachine());
applyBenchEnv();
if (!Bun.which("mpirun")) {
  console.log("mpirun not found: apt-get install openmpi-bin libopenmpi-dev");
  process.exit(1);
}
const WORKER = join(import.meta.dir, "worker.ts");
const threads = benchThreads();

interface RankResult {
  rank: number;
  size: number;
  backend: string;
  stepSeconds: number[];
  collectiveSeconds: number[];
  reducedFloats: number;
  bareSeconds: number[];
}

function launch(ranks: number): RankResult[] {
  const perRank = String(Math.max(1, Math.floor(threads / ranks)));
  const env = benchEnv({ RHO1_THREADS: perRank, OMP_NUM_THREADS: perRank, OPENBLAS_NUM_THREADS: perRank });
  const args = JSON.stringify({ batch: (B * 2) / ranks, seq: T, steps });
  const argv =
    ranks === 1
      ? ["bun", WORKER, args]
      : [
          "mpirun",
          "--allow-run-as-root",
          "--oversubscribe",
          "--bind-to",
          "none",
          "-np",
          String(ranks),
          "bun",
          WORKER,
          args,
        ];
  const proc = Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0)
    throw new Error(`${argv.slice(0, 8).join(" ")} failed:\n${proc.stderr.toString().slice(-2000)}`);
  return proc.stdout
    .toString()
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as RankResult)
    .sort((a, b) => a.rank - b.rank);
}

// Alternate the two runs so that machine noise hits both alike.
const one: number[] = [];
const two: number[] = [];
const share: number[] = [];
let backend = "";
let floats = 0;
const bare: number[] = [];
for (let round = 0; round < 2; round++) {
  const [single] = launch(1) as [RankResult];
  one.push(...single.stepSeconds);
  backend = single.backend;
  const ranks = launch(2);
  for (let s = 0; s < steps; s++) {
    two.push(Math.max(...ranks.map((r) => r.stepSeconds[s] as number)));
    share.push(
      Math.max(...ranks.map((r) => (r.collectiveSeconds[s] as number) / (r.stepSeconds[s] as number))),
    );
  }
  floats = (ranks[0] as RankResult).reducedFloats;
  bare.push(...(ranks[0] as RankResult).bareSeconds);
}
const t1 = median(one);
const t2 = median(two);
const tokens = 2 * B * T;
console.log(
  `backend: ${backend}; ${threads} BLAS threads in all; global batch ${2 * B}×${T}; ${one.length} steps per side`,
);
console.log(`1 process, batch ${2 * B}: step ${t1.toFixed(3)} s, ${(tokens / t1).toFixed(0)} tokens/s`);
console.log(
  `2 ranks, batch ${B} each: step ${t2.toFixed(3)} s, ${(tokens / t2).toFixed(0)} tokens/s; collectives ${(100 * median(share)).toFixed(1)}% of the step ` +
    `(gradient all-reduce of ${floats.toLocaleString("en-US")} floats = ${((floats * 4) / 2 ** 20).toFixed(1)} MiB per step)`,
);
const tb = median(bare);
console.log(
  `bare all-reduce of that buffer, ranks ready: ${(tb * 1000).toFixed(1)} ms (${((floats * 4) / tb / 1e9).toFixed(2)} GB/s of gradient summed)`,
);
console.log(`ratio: 2-rank ÷ 1-process step time ${(t2 / t1).toFixed(3)}`);
