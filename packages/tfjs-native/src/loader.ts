/**
 * Finds a C compiler (and, unless RHO1_BLAS=builtin, OpenBLAS), compiles native/*.c once per content hash into a
 * cache folder (@rho1/native-build), and loads the result through bun:ffi. Nothing here touches TensorFlow.js.
 */
import { dlopen } from "bun:ffi";
import { existsSync } from "node:fs";
import { arch, availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { buildOnce, findCompiler as findOnPath, NativeUnavailable, nativeCacheDir } from "@rho1/native-build";
import { BlasChooser, type BlasMode, blasMode } from "./blas.ts";
import { SYMBOLS } from "./ffi.ts";

export { NativeUnavailable };

export type NativeSymbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export interface LoadOptions {
  /** builtin, openblas or auto (default: $RHO1_BLAS, else auto): see blas.ts. */
  blas?: BlasMode;
  /** OpenBLAS shared library; default: $RHO1_OPENBLAS, then the usual system paths. */
  openblasPath?: string;
  /** Worker threads for the C kernels and OpenBLAS; default: $RHO1_THREADS or all cores. */
  threads?: number;
  /** Compiled-library cache; default: $RHO1_CACHE_DIR or ~/.cache/rho1/native. */
  cacheDir?: string;
  /** C compiler; default: $CC, then cc, gcc, clang on PATH. */
  cc?: string;
}

export interface LoadedNative {
  symbols: NativeSymbols;
  library: string;
  /** The configured mode and the chooser every matmul goes through. */
  blas: BlasMode;
  chooser: BlasChooser;
  /** The built-in SGEMM's micro-kernel (e.g. "avx512 12x32"). */
  gemmKernel: string;
  /** OpenBLAS path and kernel (core) name; null/"none" when it is not loaded. */
  openblas: string | null;
  corename: string;
  threads: number;
  flags: string[];
  compiled: boolean;
  coretype: string | null;
}

const NO_COMPILER =
  process.platform === "darwin"
    ? "no C compiler found: install the Xcode command-line tools (xcode-select --install), or set CC"
    : "no C compiler found: install gcc or clang (Debian/Ubuntu: apt-get install gcc), or set CC";

/** RHO1_GEMM_KERNEL values (tests and benchmarks pin a micro-kernel; the default is the widest the CPU runs). */
const GEMM_KERNELS: Record<string, number> = { auto: 0, avx512: 1, avx2: 2, neon: 3, portable: 4 };

const NATIVE_DIR = fileURLToPath(new URL("../native", import.meta.url));
const OPENBLAS_CANDIDATES = [
  `/usr/lib/${arch() === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/libopenblas.so.0`,
  `/usr/lib/${arch() === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/openblas-pthread/libopenblas.so.0`,
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];
const BASE_FLAGS = [
  "-fPIC",
  "-shared",
  "-fopenmp-simd",
  "-fno-math-errno",
  "-fvisibility=hidden",
  "-std=gnu11",
];
const FLAG_SETS = [
  ["-O3", "-march=native", ...BASE_FLAGS],
  ["-O2", ...BASE_FLAGS],
];
const LIBS = ["-lm", "-ldl", "-lpthread"];

export function findOpenBlas(explicit?: string): string | null {
  const wanted = explicit ?? process.env.RHO1_OPENBLAS;
  if (wanted) return existsSync(wanted) ? wanted : null;
  return OPENBLAS_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

const compilers = (explicit?: string) => [explicit, process.env.CC, "cc", "gcc", "clang"];

export function findCompiler(explicit?: string): string | null {
  return findOnPath(compilers(explicit));
}

let libc: ReturnType<typeof openLibc> | null = null;
function openLibc() {
  const name = process.platform === "darwin" ? "libc.dylib" : "libc.so.6";
  return dlopen(name, { setenv: { args: ["ptr", "ptr", "i32"], returns: "i32" } });
}

function cString(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

/** process.env does not reach native code under Bun; libc's setenv does (it must run before OpenBLAS loads). */
export function setNativeEnv(name: string, value: string): void {
  libc ??= openLibc();
  libc.symbols.setenv(cString(name), cString(value), 1);
}

export async function loadNative(opts: LoadOptions = {}): Promise<LoadedNative> {
  const blas = opts.blas ?? blasMode();
  const openblasFound = blas === "builtin" ? null : findOpenBlas(opts.openblasPath);
  if (blas === "openblas" && !openblasFound) {
    throw new NativeUnavailable(
      "RHO1_BLAS=openblas but OpenBLAS was not found (apt-get install libopenblas0-pthread, or set RHO1_OPENBLAS)",
    );
  }
  const kernelName = (process.env.RHO1_GEMM_KERNEL || "auto").trim().toLowerCase();
  const kernelId = GEMM_KERNELS[kernelName];
  if (kernelId === undefined) {
    throw new Error(
      `RHO1_GEMM_KERNEL=${kernelName}: expected one of ${Object.keys(GEMM_KERNELS).join(", ")}`,
    );
  }
  const cacheDir = opts.cacheDir ?? nativeCacheDir();
  const { library, key, flags, compiled } = await buildOnce({
    sourceDir: NATIVE_DIR,
    compilers: compilers(opts.cc),
    flagSets: FLAG_SETS,
    libs: LIBS,
    cacheDir,
    noCompiler: NO_COMPILER,
  });
  const coretype = process.env.RHO1_OPENBLAS_CORETYPE || null;
  if (coretype) setNativeEnv("OPENBLAS_CORETYPE", coretype);
  // OpenBLAS's idle workers spin ~2^28 cycles after each call, stealing the cores our kernel pool needs between
  // sgemms; 2^4 makes them sleep at once (+20% per training step measured on 2 cores). A user's value wins.
  if (!process.env.OPENBLAS_THREAD_TIMEOUT) setNativeEnv("OPENBLAS_THREAD_TIMEOUT", "4");
  const envThreads = Number.parseInt(process.env.RHO1_THREADS ?? "", 10);
  const threads = Math.max(1, opts.threads ?? (envThreads > 0 ? envThreads : availableParallelism()));
  let symbols: NativeSymbols;
  try {
    symbols = dlopen(library, SYMBOLS).symbols;
  } catch (err) {
    // A stale or foreign cache entry: say so (deleting it makes the next start rebuild).
    throw new NativeUnavailable(
      `loading ${library} failed (${(err as Error).message}); delete it to rebuild`,
    );
  }
  if (!symbols.rho1_gemm_select(kernelId)) {
    throw new NativeUnavailable(`RHO1_GEMM_KERNEL=${kernelName}: this CPU or build does not support it`);
  }
  let openblas: string | null = null;
  if (openblasFound) {
    if (symbols.rho1_init(cString(openblasFound), threads) === 0) openblas = openblasFound;
    else if (blas === "openblas")
      throw new NativeUnavailable(`loading OpenBLAS failed: ${symbols.rho1_error()}`);
    // auto: an OpenBLAS that does not load is simply not used
  }
  if (!openblas) symbols.rho1_init(null, threads);
  symbols.rho1_blas_internal(blas === "openblas" ? 1 : 0);
  const gemmKernel = String(symbols.rho1_gemm_kernel());
  const decisions = BlasChooser.fileFor(cacheDir, [key, openblas, coretype, threads, gemmKernel]);
  return {
    symbols,
    library,
    blas,
    chooser: new BlasChooser(blas, openblas !== null, decisions),
    gemmKernel,
    openblas,
    corename: String(symbols.rho1_blas_corename()),
    threads: symbols.rho1_threads(),
    flags,
    compiled,
    coretype,
  };
}

/** The BLAS in use in words, for start-up lines: "built-in SGEMM avx512 12x32, 2 threads". */
export function blasSummary(lib: LoadedNative): string {
  const builtin = `built-in SGEMM ${lib.gemmKernel}`;
  const openblas = `OpenBLAS ${lib.corename}`;
  const what =
    lib.blas === "openblas" ? openblas : lib.openblas ? `${builtin} + ${openblas} where faster` : builtin;
  return `${what}, ${lib.threads} thread${lib.threads === 1 ? "" : "s"}`;
}
