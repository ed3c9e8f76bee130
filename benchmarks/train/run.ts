/**
 * Training-step throughput: a full step (forward, backward, clip, AdamW) of the benchmark Llama (hidden 256,
 * 4 layers, 4 heads, 2 KV heads, FFN 688, vocab 32000, batch 8 × 256) with the plain causal-LM loss and with the
 * Selective Language Modeling loss (precomputed reference losses, ratio 0.6, batch scope), ours vs PyTorch on the
 * same model shape in the same run (benchmarks/lib/torch_llama.py's "train" section, with slm_ratio). Goals
 * (issue 4): SLM costs at most 3% more than CLM; ours at least PyTorch's.
 *
 *   bun benchmarks/train/run.ts [--steps N] [--batch B] [--seq T]
 */
import { AdamW, batchGradients, clipGradNormAsync } from "@rho1/train";
import { CausalLM, parseConfig, tf } from "@rho1/transformer";
import {
  applyBenchEnv,
  BENCH_ADAMW,
  BENCH_LLAMA_CONFIG,
  BenchError,
  describeMachine,
  median,
  openblasCoretype,
  runAnchor,
  setupOurs,
} from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "256" },
  },
  {
    usage:
      'Training-step tokens/s (forward, backward, clip, AdamW; CLM and SLM loss) of the benchmark Llama; anchor: PyTorch on the same model shape (torch_llama.py "train"), same run.',
    describe: {
      steps: "timed training steps per side",
      batch: "sequences per batch",
      seq: "tokens per sequence",
    },
  },
);
const steps = Number(values.steps);
const B = Number(values.batch);
const T = Number(values.seq);
const RATIO = 0.6;

console.log(describeMachine());
applyBenchEnv();
const backend = await setupOurs();
const config = parseConfig(BENCH_LLAMA_CONFIG, "bench-config");
const model = CausalLM.random(config, 1234);
const optimizer = new AdamW(model.variables, { ...BENCH_ADAMW });

let seed = 1;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
async function step(ratio: number): Promise<number> {
  const ids = Int32Array.from({ length: B * T }, () => 1 + Math.floor(rand() * (config.vocabSize - 1)));
  const refLoss = ratio < 1 ? Float32Array.from({ length: B * (T - 1) }, () => rand() * 10) : undefined;
  const t0 = performance.now();
  const r = await batchGradients(model, [{ batch: B, time: T, ids, refLoss }], { ratio, scope: "batch" });
  const { grads } = await clipGradNormAsync(r.grads, 1.0);
  optimizer.step(grads);
  for (const g of grads.values()) g.dispose();
  return (performance.now() - t0) / 1000;
}

const times = { clm: [] as number[], slm: [] as number[] };
for (let s = 0; s <= steps; s++) {
  // Interleaved, so machine noise hits both alike; the first round is warm-up.
  const clm = await step(1);
  const slm = await step(RATIO);
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

let torch: { clm_tps: number; slm_tps: number; threads: number; version: string } | null = null;
try {
  const r = runAnchor({
    config: BENCH_LLAMA_CONFIG,
    train: { batch: B, seq: T, reps: steps, slm_ratio: RATIO },
  });
  if (!r.train?.slm) throw new BenchError("PyTorch anchor printed no train.slm result");
  torch = {
    clm_tps: r.train.tokens_per_s,
    slm_tps: r.train.slm.tokens_per_s,
    threads: r.threads,
    version: r.torch,
  };
} catch (error) {
  if (!(error instanceof BenchError)) throw error;
  console.log(`PyTorch anchor failed: ${error.message}`);
}
if (!torch) {
  console.log(`ratios: SLM/CLM step time (ours) ${(ours.clm / ours.slm).toFixed(3)}`);
} else {
  console.log(
    `PyTorch ${torch.version}: CLM ${torch.clm_tps.toFixed(0)} tokens/s, SLM ${torch.slm_tps.toFixed(0)} tokens/s (${torch.threads} threads, OPENBLAS_CORETYPE=${openblasCoretype() ?? "default"})`,
  );
  console.log(
    `ratios: SLM/CLM step time ours ${(ours.clm / ours.slm).toFixed(3)} (goal <= 1.03), PyTorch ${(torch.clm_tps / torch.slm_tps).toFixed(3)}; ` +
      `ours/PyTorch tokens/s CLM ${(ours.clm / torch.clm_tps).toFixed(2)}, SLM ${(ours.slm / torch.slm_tps).toFixed(2)} (goal >= 1)`,
  );
}
