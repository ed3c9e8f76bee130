/**
 * Loading a checkpoint with TinyLlama-1.1B's exact shape (22 layers, hidden 2048, 32 heads, 4 KV heads, FFN 5632,
 * vocab 32000; random weights, BF16, sharded, written with @rho1/safetensors' writer; cached in benchmarks/.data):
 * load seconds, peak RSS, and scoring tokens/s of 2 x 512 tokens, each side in a fresh process. Ratio printed last.
 *
 *   bun benchmarks/load/run.ts [--batch 2] [--seq 512]
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { float32ToBf16, type TensorToWrite, writeCheckpoint } from "../../packages/safetensors/src/index.ts";
import { CausalLM, parameterShapes, parseConfig, tf } from "../../packages/transformer/src/index.ts";
import { coretype, randomIds, runTorch, setup } from "../forward/common.ts";

const { values } = parseArgs({
  options: {
    batch: { type: "string", default: "2" },
    seq: { type: "string", default: "512" },
    child: { type: "boolean", default: false },
  },
});
const [batch, seq] = [Number(values.batch), Number(values.seq)];
const DIR = join(import.meta.dir, "../.data/tinyllama-shape-bf16");

const CONFIG = {
  architectures: ["LlamaForCausalLM"],
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  vocab_size: 32000,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  rope_scaling: null,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: "bfloat16",
};

/** Ours, in this (fresh) process: load, then score batch x seq once after a small warm-up. */
async function child() {
  await setup();
  const t0 = performance.now();
  const model = await CausalLM.load(DIR);
  const loadS = (performance.now() - t0) / 1000;
  const rssAfterLoad = process.memoryUsage().rss / 1e9;
  const score = (b: number, t: number) =>
    tf.tidy(
      () =>
        tf.mean(model.tokenLosses(tf.tensor2d(randomIds(b, t, 32000), undefined, "int32")).ce).dataSync()[0],
    );
  score(1, 16);
  const t1 = performance.now();
  const meanLoss = score(batch, seq);
  const scoreS = (performance.now() - t1) / 1000;
  const peak = process.resourceUsage().maxRSS / 1e6; // kB → GB
  console.log(
    JSON.stringify({
      load_s: loadS,
      rss_after_load_gb: rssAfterLoad,
      peak_rss_gb: peak,
      tokens_per_s: (batch * seq) / scoreS,
      mean_loss: meanLoss,
    }),
  );
}

async function writeCheckpointOnce() {
  if (existsSync(join(DIR, "config.json"))) return;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const config = parseConfig(CONFIG, "tinyllama-shape");
  const tensors = new Map<string, TensorToWrite>();
  let x = 12345;
  for (const [name, shape] of parameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith("norm.weight")) data.fill(1);
    else {
      // Uniform in ±0.035 (std 0.02), from a cheap LCG: the values only need to be finite and distinct.
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        data[i] = (x / 4294967296 - 0.5) * 0.07;
      }
    }
    tensors.set(name, { dtype: "BF16", shape, data: float32ToBf16(data) });
  }
  await writeCheckpoint(DIR, tensors, { maxShardBytes: 500_000_000 });
  await Bun.write(join(DIR, "config.json"), `${JSON.stringify(CONFIG, null, 2)}\n`);
}

if (values.child) {
  await child();
} else {
  const t0 = performance.now();
  await writeCheckpointOnce();
  const files = readdirSync(DIR).filter((f) => f.endsWith(".safetensors"));
  const bytes = files.reduce((s, f) => s + statSync(join(DIR, f)).size, 0);
  console.log(
    `checkpoint: ${DIR} (${files.length} shards, ${(bytes / 1e9).toFixed(2)} GB BF16; ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  console.log(`OPENBLAS_CORETYPE=${coretype() ?? "(unset)"} for both sides`);
  const proc = Bun.spawnSync(
    ["bun", import.meta.path, "--child", "--batch", String(batch), "--seq", String(seq)],
    {
      stderr: "inherit",
    },
  );
  if (proc.exitCode !== 0) throw new Error(`our load run failed (exit ${proc.exitCode})`);
  const ours = JSON.parse(proc.stdout.toString().trim().split("\n").at(-1) as string);
  const torch = runTorch(["load", DIR, batch, seq, 1]);
  console.log(
    `ours: load ${ours.load_s.toFixed(1)} s, peak RSS ${ours.peak_rss_gb.toFixed(2)} GB (${(ours.peak_rss_gb / (bytes / 1e9)).toFixed(2)}x the checkpoint), ` +
      `scoring ${batch}x${seq}: ${ours.tokens_per_s.toFixed(1)} tokens/s (mean loss ${ours.mean_loss.toFixed(3)})`,
  );
  console.log(
    `PyTorch ${torch.torch}: load ${(torch.load_s as number).toFixed(1)} s, peak RSS ${(torch.peak_rss_gb as number).toFixed(2)} GB, ` +
      `scoring ${batch}x${seq}: ${(torch.tokens_per_s as number).toFixed(1)} tokens/s (threads ${torch.threads}, mean loss ${(torch.mean_loss as number).toFixed(3)})`,
  );
  console.log(
    `ratio ours/PyTorch: load time ${((torch.load_s as number) / ours.load_s).toFixed(2)}x faster, ` +
      `peak RSS ${(ours.peak_rss_gb / (torch.peak_rss_gb as number)).toFixed(2)}x, scoring ${(ours.tokens_per_s / (torch.tokens_per_s as number)).toFixed(2)}x`,
  );
}
