/**
 * Training-step throughput: a full step (forward, backward, clip, AdamW) of the benchmark Llama (hidden 256,
 * 4 layers, 4 heads, 2 KV heads, FFN 688, vocab 32000, batch 8 × 256) with the plain causal-LM loss and with the
 * Selective Language Modeling loss (precomputed reference losses, ratio 0.6, batch scope), ours vs PyTorch on the
 * same model shape in the same run. Goals (issue 4): SLM costs at most 3% more than CLM; ours at least PyTorch's.
 *
 *   bun benchmarks/train/run.ts [--steps N] [--batch B] [--seq T]
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AdamW, batchGradients, clipGradNorm } from "../../packages/train/src/index.ts";
import { CausalLM, tf } from "../../packages/transformer/src/index.ts";
import { benchConfig, coretype, median, setup } from "../forward/common.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "256" },
  },
});
const steps = Number(values.steps);
const B = Number(values.batch);
const T = Number(values.seq);
const RATIO = 0.6;

const backend = await setup();
const config = benchConfig();
const model = CausalLM.random(config, 1234);
const optimizer = new AdamW(model.variables, {
  lr: 1e-4,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
});

let seed = 1;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
function step(ratio: number): number {
  const ids = Int32Array.from({ length: B * T }, () => 1 + Math.floor(rand() * (config.vocabSize - 1)));
  const refLoss = ratio < 1 ? Float32Array.from({ length: B * (T - 1) }, () => rand() * 10) : undefined;
  const t0 = performance.now();
  const r = batchGradients(model, [{ batch: B, time: T, ids, refLoss }], { ratio, scope: "batch" });
  const { grads } = clipGradNorm(r.grads, 1.0);
  optimizer.step(grads);
  for (const g of grads.values()) g.dispose();
  return (performance.now() - t0) / 1000;
}

const times = { clm: [] as number[], slm: [] as number[] };
for (let s = 0; s <= steps; s++) {
  // Interleaved, so machine noise hits both alike; the first round is warm-up.
  const clm = step(1);
  const slm = step(RATIO);
  if (s > 0) {
    times.clm.push(clm);
    times.slm.push(slm);
  }
}
const tokens = B * T;
const ours = { clm: tokens / median(times.clm), slm: tokens / median(times.slm) };
console.log(
  `backend: ${backend}; model: hidden 256, 4 layers, vocab 32000; batch ${B}×${T}; ${steps} measured steps each`,
);
console.log(
  `ours:    CLM ${ours.clm.toFixed(0)} tokens/s, SLM ${ours.slm.toFixed(0)} tokens/s (step s: CLM ${times.clm.map((x) => x.toFixed(2)).join(" ")}; SLM ${times.slm.map((x) => x.toFixed(2)).join(" ")})`,
);
console.log(`tensors alive: ${tf.memory().numTensors}`);
optimizer.dispose();
model.dispose();

const env: Record<string, string | undefined> = {
  ...process.env,
  OMP_WAIT_POLICY: "PASSIVE",
  OPENBLAS_THREAD_TIMEOUT: "4",
};
const core = coretype();
if (core) env.OPENBLAS_CORETYPE = core;
const proc = Bun.spawnSync(
  [
    "/usr/bin/python3",
    join(import.meta.dir, "slm_torch.py"),
    256,
    4,
    4,
    2,
    688,
    config.vocabSize,
    B,
    T,
    steps,
    cpus().length,
    RATIO,
  ].map(String),
  { env },
);
if (proc.exitCode !== 0) {
  console.log(`PyTorch anchor failed: ${proc.stderr.toString().trim().split("\n").at(-1)}`);
  console.log(`ratios: SLM/CLM step time (ours) ${(ours.clm / ours.slm).toFixed(3)}`);
} else {
  const torch = JSON.parse(proc.stdout.toString().trim().split("\n").at(-1) as string) as {
    clm_tps: number;
    slm_tps: number;
  };
  console.log(
    `PyTorch: CLM ${torch.clm_tps.toFixed(0)} tokens/s, SLM ${torch.slm_tps.toFixed(0)} tokens/s (${cpus().length} threads, OPENBLAS_CORETYPE=${core ?? "default"})`,
  );
  console.log(
    `ratios: SLM/CLM step time ours ${(ours.clm / ours.slm).toFixed(3)} (goal <= 1.03), PyTorch ${(torch.clm_tps / torch.slm_tps).toFixed(3)}; ` +
      `ours/PyTorch tokens/s CLM ${(ours.clm / torch.clm_tps).toFixed(2)}, SLM ${(ours.slm / torch.slm_tps).toFixed(2)} (goal >= 1)`,
  );
}
