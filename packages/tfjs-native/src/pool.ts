/**
 * Recycles the float32 output arrays of native kernels. A fresh Float32Array is zero pages that fault in on first
 * touch: at the benchmark model's shapes a training step faulted ~400 MB (about a third of its CPU time in the kernel),
 * so outputs are taken from arrays whose tensors were disposed, when it is provably safe to overwrite them:
 *
 * - only arrays handed out by take() and adopted by exactly one tensor through adopt() are ever recycled;
 * - an array is never recycled once anything else may hold it: read back (readSync/read/dataSync return the
 *   backend's own array) or stored again by any other write (a stock kernel's zero-copy view, e.g. a contiguous Slice,
 *   shares its buffer);
 * - it returns to the pool when the backend drops its data (refCount 0), so nothing in tfjs can reach it any more.
 *
 * Taken arrays hold stale values: kernels that do not write every element must use takeZeroed().
 * RHO1_POOL_MB caps the pooled bytes (default 1024; 0 turns recycling off).
 */
import type { DataId } from "@tensorflow/tfjs-core";
import type { CpuBackend } from "./backend.ts";

const capBytes = (() => {
  const mb = Number.parseFloat(process.env.RHO1_POOL_MB ?? "");
  return (Number.isFinite(mb) && mb >= 0 ? mb : 1024) * 2 ** 20;
})();

/** Free arrays by length; Map order is least recently used first (a hit moves its length to the end). */
const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;
let enabled = capBytes > 0;
/** Buffers from take() not yet adopted by a tensor. */
const taken = new WeakSet<ArrayBuffer>();
/** Buffers adopted by exactly one tensor and never exposed: recyclable when that tensor's data goes. */
const adopted = new WeakSet<ArrayBuffer>();
/** The array adopt() is storing right now (the backend's write sees it and must not count it as a foreign write). */
let adopting: Float32Array | null = null;
const patched = new WeakSet<object>();

function pop(n: number): Float32Array | undefined {
  const list = enabled ? free.get(n) : undefined;
  const hit = list?.pop();
  if (!hit || !list) return undefined;
  pooledBytes -= hit.byteLength;
  free.delete(n);
  if (list.length > 0) free.set(n, list);
  return hit;
}

function track(out: Float32Array): Float32Array {
  if (out.length > 0) taken.add(out.buffer as ArrayBuffer);
  return out;
}

/** A float32 array of length n with unspecified contents (recycled when possible). */
export function take(n: number): Float32Array {
  return track(pop(n) ?? new Float32Array(n));
}

/** A zero-filled float32 array of length n (for kernels that accumulate into their output). */
export function takeZeroed(n: number): Float32Array {
  return track(pop(n)?.fill(0) ?? new Float32Array(n)); // zeroing in place is cheaper than faulting in new pages
}

/** Stores `values` as a new tensor's data in the backend, recyclable later if it came from take(). */
export function adopt(backend: CpuBackend, shape: number[], values: Float32Array) {
  hook(backend);
  const buf = values.buffer as ArrayBuffer;
  if (taken.has(buf)) {
    taken.delete(buf);
    adopted.add(buf);
    adopting = values;
  } else if (adopted.has(buf)) {
    adopted.delete(buf); // a second tensor on the same array: never recycle it
  }
  try {
    return backend.makeTensorInfo(shape, "float32", values);
  } finally {
    adopting = null;
  }
}

/** Drops the pooled arrays and stops recycling (after the native kernels are unregistered). */
export function setPooling(on: boolean): void {
  enabled = on && capBytes > 0;
  if (!enabled) {
    free.clear();
    pooledBytes = 0;
  }
}

export function poolStats(): { pooledBytes: number; lengths: number } {
  return { pooledBytes, lengths: free.size };
}

function forget(values: unknown): void {
  const buf = (values as { buffer?: unknown } | null)?.buffer;
  if (buf instanceof ArrayBuffer) {
    adopted.delete(buf);
    taken.delete(buf);
  }
}

function recycle(values: unknown): void {
  if (!(values instanceof Float32Array)) return;
  const buf = values.buffer as ArrayBuffer;
  if (!adopted.has(buf)) return;
  adopted.delete(buf);
  if (!enabled || values.byteLength > capBytes) return;
  const list = free.get(values.length) ?? [];
  list.push(values);
  free.delete(values.length);
  free.set(values.length, list);
  pooledBytes += values.byteLength;
  for (const [length, arrays] of free) {
    if (pooledBytes <= capBytes) break;
    while (arrays.length > 0 && pooledBytes > capBytes)
      pooledBytes -= (arrays.shift() as Float32Array).byteLength;
    if (arrays.length === 0) free.delete(length);
  }
}

/** Wraps this backend instance's write/move (foreign stores), readSync (exposure) and disposeData (release). */
function hook(backend: CpuBackend): void {
  if (patched.has(backend)) return;
  patched.add(backend);
  const b = backend as unknown as {
    write: (values: unknown, shape: number[], dtype: string) => DataId;
    move: (dataId: DataId, values: unknown, shape: number[], dtype: string, refCount: number) => void;
    readSync: (dataId: DataId) => unknown;
    disposeData: (dataId: DataId, force?: boolean) => boolean;
  };
  const { write, move, readSync, disposeData } = b;
  b.write = function (this: CpuBackend, values, shape, dtype) {
    if (values !== adopting) forget(values);
    return write.call(this, values, shape, dtype);
  };
  b.move = function (this: CpuBackend, dataId, values, shape, dtype, refCount) {
    forget(values);
    return move.call(this, dataId, values, shape, dtype, refCount);
  };
  b.readSync = function (this: CpuBackend, dataId) {
    const values = readSync.call(this, dataId);
    forget(values);
    return values;
  };
  b.disposeData = function (this: CpuBackend, dataId, force) {
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const done = disposeData.call(this, dataId, force);
    if (entry && !this.data.has(dataId)) recycle(entry.values);
    return done;
  };
}
