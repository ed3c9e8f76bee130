/**
 * What every PyTorch-anchored benchmark shares: the environment both sides run under (OPENBLAS_CORETYPE where the
 * CPU has AVX-512, the same thread count), the PyTorch anchor (torch_llama.py, spawned with /usr/bin/python3 because
 * the pyenv `python3` on PATH has no torch), our backend set-up with native kernels on or off, child processes that
 * print one JSON line, and small statistics.
 */
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { nativeStatus, registerNativeKernels } from "@rho1/tfjs-native";
import { CausalLM, parseConfig, registerBackendExtension, setupBackend, tf } from "@rho1/transformer";

export const PYTHON = "/usr/bin/python3";
export const TORCH_LLAMA = join(import.meta.dir, "torch_llama.py");
export const ROOT = join(import.meta.dir, "../..");
export const STORIES = join(ROOT, "models/stories260K");

/** Threads for both sides (2 = this project's machine and CI); RHO1_BENCH_THREADS overrides. */
export function benchThreads(): number {
  return Number(process.env.RHO1_BENCH_THREADS) || Math.min(2, cpus().length);
}

/**
 * Debian's OpenBLAS 0.3.21 predates Sapphire Rapids and picks SSE3 kernels there (~30 vs ~150-290 GFLOP/s), so on a
 * CPU with AVX-512 both sides are told SKYLAKEX. RHO1_BENCH_CORETYPE overrides ("" = leave unset).
 */
export function openblasCoretype(): string | null {
  const forced = process.env.RHO1_BENCH_CORETYPE;
  if (forced !== undefined) return forced || null;
  try {
    return readFileSync("/proc/cpuinfo", "utf8").includes("avx512f") ? "SKYLAKEX" : null;
  } catch {
    return null;
  }
}

/** The environment for our child processes and the anchor alike. */
export function benchEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const threads = String(benchThreads());
  Object.assign(env, {
    RHO1_THREADS: threads,
    OMP_NUM_THREADS: threads,
    OPENBLAS_NUM_THREADS: threads,
    // OpenMP threads that spin between ops steal the second core from OpenBLAS (measured, cpu-performance.md).
    OMP_WAIT_POLICY: "PASSIVE",
  });
  const core = openblasCoretype();
  if (core) {
    env.OPENBLAS_CORETYPE = core; // PyTorch's OpenBLAS reads it at load
    env.RHO1_OPENBLAS_CORETYPE = core; // ours: @rho1/tfjs-native passes it to OpenBLAS through libc setenv
  } else {
    delete env.OPENBLAS_CORETYPE;
    delete env.RHO1_OPENBLAS_CORETYPE;
  }
  return Object.assign(env, extra);
}

/** benchEnv() for a benchmark that runs ours in its own process: call before setupOurs(). */
export function applyBenchEnv(): void {
  const env = benchEnv();
  for (const name of ["OPENBLAS_CORETYPE", "RHO1_OPENBLAS_CORETYPE"])
    if (!(name in env)) delete process.env[name];
  Object.assign(process.env, env);
}

/** One line describing the machine and the environment, printed first by every benchmark. */
export function describeMachine(): string {
  let flags = "";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    flags = ["avx512f", "avx512_bf16", "amx_tile"].filter((f) => info.includes(f)).join(" ");
  } catch {
    // not Linux: no flags to report
  }
  const cpu = `${cpus()[0]?.model ?? "unknown CPU"}${flags ? ` (${flags})` : ""}`;
  const core = openblasCoretype();
  return (
    `machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Bun ${Bun.version}, ` +
    `tfjs ${tf.version_core}; threads ${benchThreads()} both sides; OPENBLAS_CORETYPE=${core ?? "(unset)"} both sides`
  );
}

export class BenchError extends Error {}

export interface AnchorResult {
  torch: string;
  threads: number;
  openblas_coretype: string | null;
  load_s: number;
  peak_rss_after_load_gb: number;
  peak_rss_gb: number;
  score?: { tokens_per_s: number; times_s: number[]; mean_loss: number };
  generate?: { tokens_per_s: number; times_s: number[]; ids: number[] };
  score_rows?: { seconds: number; tokens: number; tokens_per_s: number };
  train?: {
    tokens_per_s: number;
    times_s: number[];
    loss: number;
    slm?: { tokens_per_s: number; times_s: number[]; loss: number };
  };
}

/** The anchor's spec: see torch_llama.py's docstring. */
export interface AnchorSpec {
  model?: string;
  config?: Record<string, unknown>;
  seed?: number;
  threads?: number;
  check?: { ids: number[][]; out: string };
  score?: { ids?: number[][]; batch?: number; seq?: number; reps?: number; warmup_full?: boolean };
  generate?: { prompt: number[]; new_tokens: number; reps?: number };
  score_rows?: { ids: string; lengths: string; seq: number; batch: number; out: string };
  train?: { ids?: number[][]; batch?: number; seq?: number; reps?: number; lr?: number; slm_ratio?: number };
}

/** Runs the PyTorch Llama anchor under benchEnv(); the spec goes on stdin (ids can be long). */
export function runAnchor(spec: AnchorSpec): AnchorResult {
  const proc = Bun.spawnSync([PYTHON, TORCH_LLAMA], {
    env: benchEnv(),
    stdin: new TextEncoder().encode(JSON.stringify({ threads: benchThreads(), ...spec })),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) {
    const tail = proc.stderr.toString().trim().split("\n").slice(-3).join(" | ");
    throw new BenchError(`PyTorch anchor (${PYTHON} ${TORCH_LLAMA}) exited ${proc.exitCode}: ${tail}`);
  }
  return lastJsonLine(proc.stdout.toString(), "PyTorch anchor") as AnchorResult;
}

/** Runs `bun SCRIPT ARGS` under benchEnv(extra) (stderr passes through) and parses its last stdout line as JSON. */
export function runChild<T>(script: string, args: string[], extra: Record<string, string> = {}): T {
  const proc = Bun.spawnSync([process.execPath, script, ...args], {
    env: benchEnv(extra),
    stdout: "pipe",
    stderr: "inherit",
  });
  if (proc.exitCode !== 0) throw new BenchError(`bun ${script} ${args.join(" ")} exited ${proc.exitCode}`);
  return lastJsonLine(proc.stdout.toString(), `bun ${script}`) as T;
}

function lastJsonLine(stdout: string, who: string): unknown {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new BenchError(`${who} printed no JSON result (last line: ${JSON.stringify(line.slice(0, 200))})`);
  }
}

/**
 * Our backend inside a child: @rho1/tfjs-native's kernels unless RHO1_NATIVE=0 (then the plain cpu backend).
 * Returns the backend label for the report.
 */
export async function setupOurs(): Promise<string> {
  registerBackendExtension("@rho1/tfjs-native", () => registerNativeKernels({ quiet: true }));
  const backend = await setupBackend();
  const status = nativeStatus();
  return status.registered ? `${backend} + native (${status.blas})` : backend;
}

/** Options of the round-based model benchmarks (forward, generate), besides their own workload sizes. */
export const ROUND_OPTIONS = {
  reps: { type: "string", default: "3" },
  rounds: { type: "string", default: "2" },
  "cpu-reps": { type: "string", default: "1" },
  "no-cpu": { type: "boolean", default: false },
  models: { type: "string", default: "bench,stories" },
  /** Internal: run ours on the spec in this file (a child of the benchmark). */
  child: { type: "string" },
} as const;

/** --help descriptions of ROUND_OPTIONS (benchArgs' `describe`). */
export const ROUND_DESCRIBE = {
  reps: "timed repetitions per round and side",
  rounds: "rounds alternating PyTorch and ours (table: medians)",
  "cpu-reps": "repetitions of the stock cpu path (first round only)",
  "no-cpu": "skip the stock cpu path",
  models: "comma-separated: bench (the issue's Llama), stories (stories260K)",
  child: "internal: run ours on the spec in this file",
} as const;

/** The model benchmarks' results table (markdown; align: its second line) and the ratio line, printed last. */
export function printTable(align: string, rows: string[], ratioLine: string): void {
  console.log("\n| benchmark | model | ours | ours tokens/s | PyTorch tokens/s | ratio | max abs Δlogit |");
  console.log(align);
  for (const row of rows) console.log(row);
  console.log(`\n${ratioLine}`);
}

/** The two variants measured: native kernels on (RHO1_NATIVE=1) and off (RHO1_NATIVE=0, the stock cpu backend). */
export const VARIANTS = [
  { name: "native", env: { RHO1_NATIVE: "1" } },
  { name: "cpu", env: { RHO1_NATIVE: "0" } },
] as const;

/** Peak resident set size of this process so far (VmHWM), in GB. */
export function peakRssGb(): number {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? (Number(m[1]) * 1024) / 1e9 : Number.NaN;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times fn: `warmup` untimed calls, then `reps` timed ones (seconds). */
export function timeIt(fn: () => void, reps: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times;
}

/** Deterministic token ids in [1, vocab) (an LCG: both sides get these exact ids). */
export function randomIds(batch: number, seq: number, vocab: number, seed = 0): number[][] {
  let x = (seed * 2654435761 + 1) >>> 0;
  return Array.from({ length: batch }, () =>
    Array.from({ length: seq }, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return 1 + ((x >>> 8) % (vocab - 1));
    }),
  );
}

/** max |a - b| and ‖a − b‖/‖b‖ over two equally long float32 arrays. */
export function compareLogits(ours: Float32Array, ref: Float32Array): { maxAbs: number; rel: number } {
  if (ours.length !== ref.length)
    throw new BenchError(`logits length ${ours.length} vs anchor ${ref.length}`);
  let maxAbs = 0;
  let diff2 = 0;
  let ref2 = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN propagates
    diff2 += d * d;
    ref2 += ref[i] * ref[i];
  }
  return { maxAbs, rel: Math.sqrt(diff2 / ref2) };
}

export function readFloat32File(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** Formats a number of tokens/s (or any rate) for a table. */
export function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

/** The shape fields of a Llama config.json; llamaConfigJson adds what every benchmark model shares. */
export interface LlamaShape {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  intermediate_size: number;
  vocab_size: number;
}

/** A Hugging Face config.json (transformers 4.x dialect) of an untied Llama with this shape. */
export function llamaConfigJson(shape: LlamaShape, torchDtype = "float32") {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    ...shape,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: torchDtype,
  };
}

/** The issue's benchmark Llama as a Hugging Face config.json: hidden 256, 4 layers, 4/2 heads, FFN 688, vocab 32000. */
export const BENCH_LLAMA_CONFIG = llamaConfigJson({
  hidden_size: 256,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 688,
  vocab_size: 32000,
});

/** The training benchmarks' AdamW, as the PyTorch anchor sets it (torch_llama.py: betas 0.9/0.95, eps 1e-8, wd 0.1). */
export const BENCH_ADAMW = { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 } as const;

/** Random weights of the benchmark Llama (seed 1234) saved as an HF folder, so both sides read identical weights. */
export async function saveBenchModel(dir: string): Promise<void> {
  await setupOurs();
  const model = CausalLM.random(parseConfig(BENCH_LLAMA_CONFIG, "bench-config"), 1234);
  await model.save(dir);
  model.dispose();
}

/** The --models list ("bench,stories") as [name, HF folder] pairs; the bench model is written under tmp. */
export async function benchModels(list: string, tmp: string): Promise<[string, string][]> {
  const models: [string, string][] = [];
  for (const m of list.split(",")) {
    if (m === "bench") {
      const dir = join(tmp, "llama-h256-v32000");
      await saveBenchModel(dir);
      models.push(["llama h256 L4 V32000", dir]);
    } else if (m === "stories") models.push(["stories260K", STORIES]);
    else throw new Error(`--models: unknown model ${m} (expected bench, stories)`);
  }
  return models;
}
