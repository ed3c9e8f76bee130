/**
 * Compile-on-first-use for C shims loaded through bun:ffi: the sources of one folder are compiled once per content
 * hash (sources, flags, host CPU) into a cache folder, with an atomic rename so concurrent first uses (several MPI
 * ranks, parallel test files) never load a half-written library. Used by @rho1/tfjs-native's kernels and by
 * @rho1/distributed's MPI shim. No TensorFlow.js here.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { arch, cpus, homedir } from "node:os";
import { delimiter, join } from "node:path";

/** The platform's shared-library extension (what bun:ffi's `suffix` says; computed here so Node can import this). */
const LIBRARY_SUFFIX = process.platform === "darwin" ? "dylib" : process.platform === "win32" ? "dll" : "so";

export class NativeUnavailable extends Error {}

export interface NativeBuild {
  /** Folder whose *.c and *.h files make the library. */
  sourceDir: string;
  /** Compilers to try, in order: names on PATH or paths (undefined entries skipped). */
  compilers: (string | undefined)[];
  /** Flag sets tried in order until one compiles (e.g. -march=native, then a portable fallback). */
  flagSets: string[][];
  /** Link flags after the sources. */
  libs: string[];
  cacheDir: string;
  /** The error when no compiler is found and nothing is cached (what to install). */
  noCompiler: string;
}

export interface BuiltLibrary {
  library: string;
  /** The content hash naming the library (sources, flags, host CPU). */
  key: string;
  flags: string[];
  /** True when this call compiled it (false: found in the cache). */
  compiled: boolean;
}

/** Where compiled shims are kept: $RHO1_CACHE_DIR, else ~/.cache/rho1/native. */
export function nativeCacheDir(): string {
  return process.env.RHO1_CACHE_DIR || join(homedir(), ".cache", "rho1", "native");
}

export function findCompiler(candidates: (string | undefined)[]): string | null {
  for (const name of candidates) {
    if (!name) continue;
    const found = name.includes("/") ? (existsSync(name) ? name : null) : onPath(name);
    if (found) return found;
  }
  return null;
}

/** The first executable file called `name` in a PATH folder, like `command -v`. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".c") || f.endsWith(".h"))
    .sort();
}

/** Key over the sources, the flags and the host CPU (a -march=native build is only valid where it was made). */
function cacheKey(b: NativeBuild): string {
  const h = createHash("sha256");
  for (const f of sourceFiles(b.sourceDir)) {
    h.update(f)
      .update("\0")
      .update(readFileSync(join(b.sourceDir, f)))
      .update("\0");
  }
  h.update(JSON.stringify({ flags: b.flagSets, libs: b.libs, arch: arch(), cpu: cpus()[0]?.model ?? "" }));
  return h.digest("hex").slice(0, 24);
}

async function compile(b: NativeBuild, cc: string, out: string): Promise<string[]> {
  const sources = sourceFiles(b.sourceDir)
    .filter((f) => f.endsWith(".c"))
    .map((f) => join(b.sourceDir, f));
  const errors: string[] = [];
  for (const flags of b.flagSets) {
    const tmp = `${out}.tmp-${process.pid}`;
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(cc, [...flags, "-o", tmp, ...sources, ...b.libs], { maxBuffer: 1 << 26 }, (error, _out, err) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr: String(err) }),
      );
    });
    if (code === 0) {
      renameSync(tmp, out);
      writeFileSync(`${out}.json.tmp-${process.pid}`, JSON.stringify({ cc, flags }));
      renameSync(`${out}.json.tmp-${process.pid}`, `${out}.json`);
      return flags;
    }
    rmSync(tmp, { force: true });
    errors.push(`${flags.join(" ")}: ${stderr.trim().split("\n").slice(0, 4).join(" | ")}`);
  }
  throw new NativeUnavailable(`compiling ${b.sourceDir} with ${cc} failed: ${errors.join("; ")}`);
}

/** The cached library for `b`, compiling it first when absent (a cached build needs no compiler). */
export async function buildOnce(b: NativeBuild): Promise<BuiltLibrary> {
  mkdirSync(b.cacheDir, { recursive: true });
  const key = cacheKey(b);
  const library = join(b.cacheDir, `${key}.${LIBRARY_SUFFIX}`);
  if (existsSync(library)) {
    const meta = `${library}.json`;
    const flags = existsSync(meta) ? (JSON.parse(readFileSync(meta, "utf8")).flags as string[]) : [];
    return { library, key, flags, compiled: false };
  }
  const cc = findCompiler(b.compilers);
  if (!cc) throw new NativeUnavailable(b.noCompiler);
  return { library, key, flags: await compile(b, cc, library), compiled: true };
}
