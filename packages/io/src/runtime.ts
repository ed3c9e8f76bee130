/**
 * The one place that asks which runtime this is. Every rho1 package runs under Bun and Node >= 20 through node:
 * APIs; a Bun API is used only where it is measurably better or its bytes must stay what they were, and then here,
 * with the Node path beside it:
 * - `mapFile`: Bun.mmap pages a file in on demand (a 1 GB checkpoint opens in microseconds); Node has no mmap, so
 *   it reads the bytes.
 * - `gzipSync` / `zstdCompressSync`: Bun's compressors, whose output existing stores were written with; node:zlib
 *   elsewhere (valid streams, not necessarily the same bytes). zstd needs Node >= 22.15.
 * - `collectGarbage`: Bun.gc(true); on Node, global.gc when started with --expose-gc, else nothing.
 * node:crypto hashes and node:fs streams are as fast as Bun.CryptoHasher and Bun.file().stream() under Bun
 * (measured: sha256 of 200 MB 265 vs 273 ms; reading it 264-530 vs 1420-1590 ms), so those are plain node: code.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import * as zlib from "node:zlib";
import { IoError } from "./error.ts";

interface BunRuntime {
  mmap(path: string, options: { shared: boolean; offset?: number; size?: number }): Uint8Array;
  gzipSync(data: Uint8Array): Uint8Array;
  zstdCompressSync(data: Uint8Array, options: { level: number }): Uint8Array;
  gc(force: boolean): void;
}

const bun = (globalThis as { Bun?: BunRuntime }).Bun;

/** True under Bun, false under Node. */
export const isBun: boolean = bun !== undefined;

/** The runtime's name and version, e.g. "bun 1.4.5" or "node 20.20.2". */
export const runtimeName: string = isBun
  ? `bun ${(process.versions as { bun?: string }).bun}`
  : `node ${process.versions.node}`;

/** Bytes [offset, offset + size) of a file (default: all of it) as a private read-only view. */
export function mapFile(path: string, range: { offset?: number; size?: number } = {}): Uint8Array {
  if (bun) {
    const options = range.size === undefined ? { shared: false } : { shared: false, ...range };
    return bun.mmap(path, options);
  }
  const fd = openSync(path, "r");
  try {
    const offset = range.offset ?? 0;
    const size = range.size ?? fstatSync(fd).size - offset;
    const bytes = readAt(fd, size, offset);
    if (bytes.length < size) throw new Error(`read ${bytes.length} of ${size} bytes at offset ${offset}`);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** Up to `length` bytes of an open file from `position` (fewer where the file ends first). */
export function readAt(fd: number, length: number, position: number): Uint8Array {
  const bytes = new Uint8Array(length);
  return bytes.subarray(0, readInto(fd, bytes, position));
}

/**
 * Fills `into` from an open file at `position`, read after read (one read may return less than asked); returns the
 * bytes read, fewer than `into.length` only where the file ends first.
 */
export function readInto(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** gzip with zlib's default level. */
export function gzipSync(data: Uint8Array): Uint8Array {
  return bun ? bun.gzipSync(data) : new Uint8Array(zlib.gzipSync(data));
}

type NodeZstd = (data: Uint8Array, options: { params: Record<number, number> }) => Uint8Array;

/** A zstd frame at `level`. Node gained zstd in 22.15; older Node gets an IoError naming what is needed. */
export function zstdCompressSync(data: Uint8Array, level: number): Uint8Array {
  if (bun) return bun.zstdCompressSync(data, { level });
  const compress = (zlib as unknown as { zstdCompressSync?: NodeZstd }).zstdCompressSync;
  const levelParam = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel;
  if (!compress || levelParam === undefined) {
    throw new IoError(
      "unsupported_runtime",
      `zstd compression needs Bun or Node >= 22.15 (this is ${runtimeName}); use GZIP compression instead`,
      { expected: "Bun or Node >= 22.15", found: runtimeName },
    );
  }
  return new Uint8Array(compress(data, { params: { [levelParam]: level } }));
}

/** A full garbage collection where the runtime offers one (Bun; Node started with --expose-gc). */
export function collectGarbage(): void {
  if (bun) bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.();
}

/** Blocks the thread for `ms` milliseconds (Atomics.wait: the same under Bun and Node). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
