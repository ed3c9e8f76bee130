#!/usr/bin/env bun
/**
 * WebGPU (@rho1/tfjs-webgpu on Dawn) against PyTorch CUDA on the same GPU, in one run: scoring (forward + per-token
 * CE, read back) and an SLM training step (forward, top 60% by excess loss, backward, clip 1.0, AdamW) in tokens/s, for the benchmark Llama
 * (h256, V32000, 8×256) and the TinyLlama-1.1B shape (scoring 4×2048, training --train-batch × 2048). PyTorch runs
 * float32 with TF32 off (what we compute) and bf16 autocast beside it for reference; the ratio ours / PyTorch f32
 * comes last. Writes the table to --out as well as stdout.
 *
 *   bun benchmarks/webgpu/run.ts [--out FILE] [--cases bench,tinyllama] [--reps 3] [--train-batch 2] [--no-torch]
 *
 * On a machine with only a software adapter (Mesa's lavapipe) the figures measure plumbing, not speed: use
 * --smoke there (every case at 1×32 tokens).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setupWebGPU } from "@rho1/tfjs-webgpu";
import { AdamW, batchGradients, clipGradNormAsync } from "@rho1/train";
import { CausalLM, parseConfig, tf } from "@rho1/transformer";
import { BENCH_LLAMA_CONFIG, llamaConfigJson, median, randomIds } from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    out: { type: "string", default: "benchmarks/webgpu/results.md" },
    cases: { type: "string", default: "bench,tinyllama" },
    reps: { type: "string", default: "3" },
    "train-batch": { type: "string", default: "2" },
    "no-torch": { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    python: { type: "string", default: process.env.RHO1_BENCH_PYTHON ?? "python3" },
  },
  {
    usage:
      "WebGPU scoring and training tokens/s (benchmark Llama, TinyLlama-1.1B shape) vs PyTorch CUDA f32 (TF32 off), bf16 beside.",
    describe: {
      out: "markdown table written here too",
      cases: "comma-separated: bench (h256 V32000 8x256), tinyllama (1.1B shape, 4x2048 scoring)",
      reps: "timed repetitions after one warm-up (median reported)",
      "train-batch": "rows of 2048 tokens in the TinyLlama training step",
      "no-torch": "skip the PyTorch anchor",
      smoke: "every case at 1 x 32 tokens: checks the script end to end on a software adapter",
      python: "a python3 with torch + CUDA",
    },
  },
);

const TINYLLAMA = llamaConfigJson({
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  vocab_size: 32000,
});

interface Case {
  name: string;
  model: "bench" | "tinyllama";
  kind: "score" | "train";
  batch: number;
  seq: number;
}

const trainBatch = Number(values["train-batch"]);
const SLM_RATIO = 0.6;
const reps = Number(values.reps);
const wanted = new Set((values.cases as string).split(","));
const CASES: Case[] = [
  { name: "bench score 8x256", model: "bench" as const, kind: "score" as const, batch: 8, seq: 256 },
  { name: "bench train 8x256", model: "bench" as const, kind: "train" as const, batch: 8, seq: 256 },
  { name: "1.1B score 4x2048", model: "tinyllama" as const, kind: "score" as const, batch: 4, seq: 2048 },
  {
    name: `1.1B train ${trainBatch}x2048`,
    model: "tinyllama" as const,
    kind: "train" as const,
    batch: trainBatch,
    seq: 2048,
  },
]
  .filter((c) => wanted.has(c.model))
  .map((c) => (values.smoke ? { ...c, name: `${c.name} (smoke: 1x32)`, batch: 1, seq: 32 } : c));

const setup = await setupWebGPU({ allowFallback: true });
if (!setup.ok) {
  process.stderr.write(`benchmarks/webgpu: ${setup.why}\n`);
  process.exit(1);
}
const lines: string[] = [`ours: ${setup.label}, Bun ${Bun.version}, tfjs ${tf.version_core}`];
if (setup.adapter.isFallback) lines.push("(software adapter: these figures measure plumbing, not a GPU)");
process.stdout.write(`${lines.join("\n")}\n`);

async function timeOurs(c: Case): Promise<number> {
  const config = parseConfig(c.model === "bench" ? BENCH_LLAMA_CONFIG : TINYLLAMA, c.model);
  const model = CausalLM.random(config, 1234);
  const idValues = randomIds(c.batch, c.seq, config.vocabSize, 1);
  const ids = tf.tensor2d(idValues, [c.batch, c.seq], "int32");
  const optimizer = c.kind === "train" ? new AdamW(model.variables, { lr: 1e-5, weightDecay: 0.1 }) : null;
  // The SLM step as `rho1 train` takes it: precomputed reference losses, the top 60% by excess loss (ranked on the
  // GPU), clip 1.0, AdamW. torch_cuda.py does the same with torch.topk.
  const microBatch = {
    batch: c.batch,
    time: c.seq,
    ids: Int32Array.from(idValues.flat()),
    refLoss: Float32Array.from({ length: c.batch * (c.seq - 1) }, (_, i) => ((i * 7919) % 4000) / 1000),
  };
  const once = async () => {
    if (!optimizer) {
      const ce = tf.tidy(() => tf.sum(model.tokenLosses(ids).ce));
      await ce.data();
      ce.dispose();
      return;
    }
    const { grads } = await batchGradients(model, [microBatch], { ratio: SLM_RATIO });
    const clipped = await clipGradNormAsync(grads, 1.0);
    optimizer.step(clipped.grads);
    for (const g of clipped.grads.values()) g.dispose();
  };
  await once();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await once();
    times.push((performance.now() - t0) / 1000);
  }
  optimizer?.dispose();
  ids.dispose();
  model.dispose();
  return (c.batch * c.seq) / median(times);
}

interface TorchResult {
  device: string;
  torch: string;
  cases: Record<string, { f32: number | null; bf16: number | null }>;
}

function timeTorch(cases: Case[]): TorchResult | string {
  const byModel = new Map<string, Case[]>();
  for (const c of cases) byModel.set(c.model, [...(byModel.get(c.model) ?? []), c]);
  const merged: TorchResult = { device: "", torch: "", cases: {} };
  for (const [model, list] of byModel) {
    const spec = {
      config: model === "bench" ? BENCH_LLAMA_CONFIG : TINYLLAMA,
      seed: 1234,
      cases: list.map((c) => ({ name: c.name, kind: c.kind, batch: c.batch, seq: c.seq, reps })),
    };
    const p = Bun.spawnSync(
      [values.python as string, join(import.meta.dir, "torch_cuda.py"), JSON.stringify(spec)],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    if (p.exitCode !== 0) return `PyTorch anchor failed: ${p.stderr.toString().trim().split("\n").pop()}`;
    const r = JSON.parse(p.stdout.toString().trim().split("\n").pop() as string) as TorchResult;
    Object.assign(merged.cases, r.cases);
    merged.device = r.device;
    merged.torch = r.torch;
  }
  return merged;
}

const ours = new Map<string, number>();
for (const c of CASES) {
  ours.set(c.name, await timeOurs(c));
  process.stdout.write(`ours ${c.name}: ${ours.get(c.name)?.toFixed(0)} tokens/s\n`);
}
const torch = values["no-torch"] ? "anchor skipped (--no-torch)" : timeTorch(CASES);
if (typeof torch === "string") lines.push(torch);
else
  lines.push(
    `anchor: PyTorch ${torch.torch} on ${torch.device}, f32 with TF32 off; bf16 autocast for reference`,
  );

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? "—" : x.toFixed(0));
const rows = [
  "| case | ours WebGPU f32 tokens/s | PyTorch CUDA f32 tokens/s | PyTorch bf16 autocast tokens/s | ours / PyTorch f32 |",
  "| --- | ---: | ---: | ---: | ---: |",
];
for (const c of CASES) {
  const o = ours.get(c.name) as number;
  const t = typeof torch === "string" ? undefined : torch.cases[c.name];
  const ratio = t?.f32 ? `${(o / t.f32).toFixed(2)}x` : "—";
  rows.push(`| ${c.name} | ${fmt(o)} | ${fmt(t?.f32)} | ${fmt(t?.bf16)} | ${ratio} |`);
}
const table = `${lines.join("\n")}\n\n${rows.join("\n")}\n`;
writeFileSync(values.out as string, table);
process.stdout.write(`\n${table}`);
