import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface AtomicWriteOptions {
  /** Create the parent folder first (default false: a missing folder is the caller's error). */
  mkdir?: boolean;
  /** Runs after the temporary file is durable and before the rename: a test hook for kill points. */
  beforeRename?: () => void;
}

/**
 * Writes `data` so that a reader (or a run resumed after a crash) sees either the old file or the whole new one,
 * never a prefix: `<path>.tmp-<pid>`, fsync, rename. Chunks are written in order without being joined, so a
 * multi-gigabyte checkpoint needs no second copy in memory. On failure the temporary file is removed.
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
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    options.beforeRename?.();
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Finishes an atomic write made through a stream (a parquet writer, say) into `tmp`: fsync, then rename over
 * `path`. The caller writes `<path>.tmp-<pid>` and removes it if anything fails before this.
 */
export function commitFileAtomic(tmp: string, path: string): void {
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
