import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { IoError } from "./error.ts";

export interface AtomicWriteOptions {
  /** Create the parent folder first (default false: a missing folder is the caller's error). */
  mkdir?: boolean;
  /** Runs after the temporary file is durable and before the rename: a test hook for kill points. */
  beforeRename?: () => void;
}

/**
 * A failed system call as an IoError naming the file: Node's ENOSPC and EIO messages name only the syscall
 * ("ENOSPC: no space left on device, write"), which leaves an operator guessing which disk filled.
 */
export function ioError(path: string, error: unknown, doing = "cannot write"): IoError {
  const e = error as NodeJS.ErrnoException;
  return new IoError(
    (e.code ?? "io").toLowerCase(),
    `${path}: ${doing} (${e.code ?? e.name}: ${e.message.replace(/^E[A-Z]+: /, "")})`,
    { file: path, errno: e.code },
  );
}

/**
 * Whether fsync runs (default yes). `RHO1_FSYNC=0` skips every fsync of @rho1/io's writes: files are still written
 * to a temp name and renamed, so a crashed process never leaves a prefix, but a power cut may lose what the last
 * seconds wrote. For benchmarks that measure fsync's cost (benchmarks/durability) and scratch runs on storage
 * whose loss does not matter; read at each call, so a benchmark can switch it between runs.
 */
export function fsyncEnabled(): boolean {
  return process.env.RHO1_FSYNC !== "0";
}

/** fsync of an open file (a no-op under RHO1_FSYNC=0); errors are the caller's to name. */
export function syncFile(fd: number): void {
  if (fsyncEnabled()) fsyncSync(fd);
}

const isErrno = (error: unknown) => /^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException)?.code));

/**
 * fsync a folder, so that the names created or renamed in it survive a power cut (on Linux a rename is durable
 * only once its folder is synced). A no-op where folders cannot be opened for sync.
 */
export function syncFolder(dir: string): void {
  if (!fsyncEnabled()) return;
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    // EINVAL / EISDIR: a file system that does not sync folders; nothing to do.
    if (!["EINVAL", "EISDIR", "EBADF"].includes((error as NodeJS.ErrnoException).code ?? ""))
      throw ioError(dir, error, "cannot sync");
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` so that a reader (or a run resumed after a crash, or after a power cut) sees either the old file or
 * the whole new one, never a prefix: `<path>.tmp-<pid>`, fsync, rename, fsync of the folder. Chunks are written in
 * order without being joined, so a multi-gigabyte checkpoint needs no second copy in memory. On failure the
 * temporary file is removed and a system error (ENOSPC, EIO, ...) becomes an IoError naming the file.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): void {
  if (options.mkdir) mkdirSync(dirname(path), { recursive: true });
  const chunks =
    typeof data === "string" ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    syncFile(fd);
    closeSync(fd);
    fd = undefined;
    options.beforeRename?.();
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw isErrno(error) ? ioError(path, error) : error;
  }
  syncFolder(dirname(path));
}

/**
 * Finishes an atomic write made through a stream (a parquet writer, say) into `tmp`: fsync, then rename over
 * `path`, then fsync of its folder. The caller writes `<path>.tmp-<pid>` and removes it if anything fails before this.
 */
export function commitFileAtomic(tmp: string, path: string): void {
  const fd = openSync(tmp, "r");
  try {
    syncFile(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncFolder(dirname(path));
}
