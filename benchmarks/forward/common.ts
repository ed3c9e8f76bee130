/** Shared by the transformer benchmarks: backend setup, the benchmark model, the PyTorch anchor, timing. */
import { cpus } from "node:os";
import { join } from "node:path";
import { registerNativeKernels } from "../../packages/tfjs-native/src/index.ts";
import {
  CausalLM,
  parseConfig,
  registerBackendExtension,
  setupBackend,
} from "../../packages/transformer/src/index.ts";

export const ROOT = join(import.meta.dir, "../..");
export const STORIES = join(ROOT, "models/stories260K");
export const TORCH_SCRIPT = join(import.meta.dir, "llama_torch.py");

/** AVX-512 machines need OpenBLAS told its core type (Debian's 0.3.21 predates Sapphire Rapids): both sides get it. */
export function coretype(): string | null {
  const info = require("node:fs").readFileSync("/proc/cpuinfo", "utf8") as string;
  return info.includes("avx512f") ? "SKYLAKEX" : null;
}

/** The fastest backend this machine offers (native kernels when they load), as the rho1 CLI sets it up. */
export async function setup(): Promise<string> {
  const core = coretype();
  if (core && !process.env.RHO1_OPENBLAS_CORETYPE) process.env.RHO1_OPENBLAS_CORETYPE = core;
  registerBackendExtension("tfjs-native", () => registerNativeKernels());
  return setupBackend();
}

/** The benchmark Llama: hidden 256, 4 layers, 4 heads, 2 KV heads, FFN 688, vocab 32000, untied. */
export function benchConfig() {
  return parseConfig(
    {
      architectures: ["LlamaForCausalLM"],
      hidden_size: 256,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 688,
      vocab_size: 32000,
      max_position_embeddings: 2048,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: false,
      bos_token_id: 1,
      eos_token_id: 2,
      torch_dtype: "float32",
    },
    "bench-config",
  );
}

/** Writes the random benchmark model as a Hugging Face folder (so PyTorch reads the same weights). */
export async function writeBenchModel(dir: string): Promise<void> {
  const model = CausalLM.random(benchConfig(), 1234);
  await model.save(dir);
  model.dispose();
}

/** Same ids as llama_torch.py's random_ids would not be (different PRNG), so we pass ours nowhere: each side
 *  scores its own random ids; the loss printed is a sanity check of scale only. */
export function randomIds(b: number, t: number, vocab: number, seed = 0): number[][] {
  let x = seed + 1;
  return Array.from({ length: b }, () =>
    Array.from({ length: t }, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return 1 + ((x >>> 8) % (vocab - 1));
    }),
  );
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs the PyTorch anchor with the same OpenBLAS settings and thread count; returns its JSON line. */
export function runTorch(args: (string | number)[]): Record<string, number | string | number[]> {
  const core = coretype();
  const env: Record<string, string | undefined> = { ...process.env, OMP_WAIT_POLICY: "PASSIVE" };
  if (core) env.OPENBLAS_CORETYPE = core;
  env.RHO1_THREADS ??= String(cpus().length);
  const proc = Bun.spawnSync(["/usr/bin/python3", TORCH_SCRIPT, ...args.map(String)], { env });
  if (proc.exitCode !== 0)
    throw new Error(`PyTorch anchor failed: ${proc.stderr.toString().trim().split("\n").at(-1)}`);
  return JSON.parse(proc.stdout.toString().trim().split("\n").at(-1) as string);
}
