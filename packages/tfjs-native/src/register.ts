/**
 * registerNativeKernels(): load (compiling on first use) the native library and register its kernels into the tfjs
 * `cpu` backend; unregisterNativeKernels() restores the stock state; nativeStatus() reports what happened.
 */
import "@tensorflow/tfjs-backend-cpu";
import { ops } from "@rho1/transformer";
import type { GradConfig, KernelConfig } from "@tensorflow/tfjs-core";
import * as tf from "@tensorflow/tfjs-core";
import { blasMode } from "./blas.ts";
import { contractKernels } from "./kernels.ts";
import {
  blasSummary,
  findCompiler,
  findOpenBlas,
  type LoadedNative,
  type LoadOptions,
  loadNative,
  NativeUnavailable,
} from "./loader.ts";
import { addKernel, batchMatMulGrad, batchMatMulKernel, fusedMatMulKernel } from "./matmul.ts";
import { setPooling } from "./pool.ts";

export interface RegisterOptions extends LoadOptions {
  /** Print the one-line notice when native kernels are unavailable (default true). */
  quiet?: boolean;
}

export interface NativeStatus {
  /** True while native kernels are registered. */
  registered: boolean;
  /** Why they are not (disabled, OpenBLAS or compiler missing, compile error); null when registered or never tried. */
  reason: string | null;
  /** The BLAS in use, in words ("built-in SGEMM (avx512 12x32), 2 threads", ...). */
  blas?: string;
  /** RHO1_BLAS mode, the built-in SGEMM's micro-kernel, auto's per-shape decisions so far. */
  blasMode?: string;
  gemmKernel?: string;
  blasDecisions?: Readonly<Record<string, string>>;
  /** Compiled library path, OpenBLAS path and its kernel (core) name (null/"none": not loaded), threads used,
   * compiler flags. */
  library?: string;
  openblas?: string | null;
  corename?: string;
  threads?: number;
  flags?: string[];
  /** True when this process compiled the library (false: loaded from the cache). */
  compiled?: boolean;
  /** OPENBLAS_CORETYPE passed to OpenBLAS (from RHO1_OPENBLAS_CORETYPE), or null. */
  coretype?: string | null;
  kernels: string[];
}

let loaded: LoadedNative | null = null;
let pending: Promise<boolean> | null = null;
let reason: string | null = null;
let noticed = false;
let registeredNames: string[] = [];
const stockKernels = new Map<string, KernelConfig | undefined>();
let stockMatMulGrad: GradConfig | undefined;

function replaceKernel(config: KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, "cpu");
  if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, existing);
  if (existing) tf.unregisterKernel(config.kernelName, "cpu");
  tf.registerKernel(config);
}

function registerAll(lib: LoadedNative): void {
  const stock = (name: string) => stockKernels.get(name) ?? tf.getKernel(name, "cpu");
  const configs = [
    batchMatMulKernel(lib, stock(tf.BatchMatMul)),
    fusedMatMulKernel(lib, stock(tf._FusedMatMul)),
    addKernel(lib.symbols, stock(tf.Add)),
    ...contractKernels(lib.symbols),
  ];
  for (const c of configs) replaceKernel(c);
  setPooling(true);
  registeredNames = configs.map((c) => c.kernelName);
  stockMatMulGrad = tf.getGradient(tf.BatchMatMul);
  tf.registerGradient(batchMatMulGrad);
  for (const g of ops.contractGradients) tf.registerGradient(g);
}

/**
 * Registers the native kernels into the `cpu` backend. Resolves true when they are registered, false (with one notice
 * on stderr) when RHO1_NATIVE=0, a C compiler is missing (or OpenBLAS under RHO1_BLAS=openblas), or compiling
 * fails. Idempotent.
 */
export function registerNativeKernels(opts: RegisterOptions = {}): Promise<boolean> {
  if (registeredNames.length > 0) return Promise.resolve(true);
  if (pending) return pending;
  const attempt = (async () => {
    try {
      if (process.env.RHO1_NATIVE === "0") throw new NativeUnavailable("disabled by RHO1_NATIVE=0");
      loaded ??= await loadNative(opts);
      registerAll(loaded);
      reason = null;
      return true;
    } catch (err) {
      if (!(err instanceof NativeUnavailable)) throw err;
      reason = err.message;
      if (!opts.quiet && !noticed) {
        noticed = true; // one notice per process, however often registration is retried
        console.error(`rho1: native kernels off (${reason}); using the pure TensorFlow.js path`);
      }
      return false;
    }
  })();
  // Cleared once settled (the body may finish synchronously, so never inside it).
  pending = attempt;
  const clear = () => {
    if (pending === attempt) pending = null;
  };
  attempt.then(clear, clear);
  return attempt;
}

/**
 * For @rho1/transformer's registerBackendExtension: registers the kernels and returns the BLAS in use, in words, for
 * the start-up line (false when they are unavailable).
 */
export async function nativeBackendExtension(opts: RegisterOptions = {}): Promise<string | false> {
  return (await registerNativeKernels(opts)) && loaded ? blasSummary(loaded) : false;
}

/**
 * Runs fn with every native matmul on one BLAS, whatever RHO1_BLAS says (benchmarks time both in one process).
 * "openblas" throws when OpenBLAS is not loaded.
 */
export function withBlas<T>(blas: "builtin" | "openblas", fn: () => T): T {
  if (!loaded) throw new Error("native kernels are not loaded");
  return loaded.chooser.pin(blas, fn);
}

/** Restores the stock `cpu` kernels and gradients (the native library stays loaded for a later register). */
export function unregisterNativeKernels(): void {
  for (const name of registeredNames) {
    tf.unregisterKernel(name, "cpu");
    const stock = stockKernels.get(name);
    if (stock) tf.registerKernel(stock);
  }
  if (registeredNames.length > 0) {
    if (stockMatMulGrad) tf.registerGradient(stockMatMulGrad);
    else tf.unregisterGradient(tf.BatchMatMul);
    for (const g of ops.contractGradients) tf.unregisterGradient(g.kernelName);
  }
  registeredNames = [];
  stockKernels.clear();
  setPooling(false); // stock kernels never take from the pool: release what it holds
}

export function nativeStatus(): NativeStatus {
  const base = { registered: registeredNames.length > 0, reason, kernels: [...registeredNames] };
  if (!loaded) return base;
  const { library, openblas, corename, threads, flags, compiled, coretype, gemmKernel } = loaded;
  return {
    ...base,
    blas: blasSummary(loaded),
    blasMode: loaded.blas,
    gemmKernel,
    blasDecisions: loaded.chooser.decided,
    library,
    openblas,
    corename,
    threads,
    flags,
    compiled,
    coretype,
  };
}

/** Whether this machine can use the native path at all (for tests that must skip with a reason). */
export function nativeAvailability(): { ok: boolean; reason: string | null } {
  if (process.env.RHO1_NATIVE === "0") return { ok: false, reason: "disabled by RHO1_NATIVE=0" };
  if (blasMode() === "openblas" && !findOpenBlas())
    return { ok: false, reason: "RHO1_BLAS=openblas but OpenBLAS not found (libopenblas0)" };
  if (!findCompiler()) return { ok: false, reason: "no C compiler (cc/gcc/clang)" };
  return { ok: true, reason: null };
}
