import { beforeAll, describe, expect, test } from "bun:test";
import * as tf from "@tensorflow/tfjs-core";
import type { CpuBackend } from "./backend.ts";
import { output } from "./backend.ts";
import { nativeAvailability, registerNativeKernels, unregisterNativeKernels } from "./index.ts";
import { poolStats, take, takeZeroed } from "./pool.ts";
import { uniform } from "./test-helpers.ts";

const avail = nativeAvailability();
if (!avail.ok) console.log(`skipping output pool tests: ${avail.reason}`);

/** The backend's own array for a tensor, looked up without readSync (which would mark it as exposed). */
function storage(t: tf.Tensor): Float32Array {
  return (tf.backend() as CpuBackend).data.get(t.dataId).values as Float32Array;
}

describe.skipIf(!avail.ok)("output pool", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    expect(await registerNativeKernels({ quiet: true })).toBe(true);
  });

  test("a disposed output's array is reused by the next output of that length, with correct values", () => {
    const [a, b] = [uniform([48, 40], 1), uniform([40, 56], 2)];
    const expected = Array.from(tf.matMul(a, b).dataSync());
    const first = tf.matMul(a, b);
    const array = storage(first);
    first.dispose();
    const second = tf.matMul(a, b);
    expect(storage(second)).toBe(array);
    expect(Array.from(second.dataSync())).toEqual(expected);
    tf.dispose([a, b, second]);
  });

  test("an array that was read back is never recycled", () => {
    const [a, b] = [uniform([32, 24], 3), uniform([24, 16], 4)];
    const c = tf.matMul(a, b);
    const values = c.dataSync();
    const copy = Array.from(values);
    c.dispose();
    const [a2, b2] = [uniform([32, 24], 5), uniform([24, 16], 6)];
    const d = tf.matMul(a2, b2);
    expect(storage(d)).not.toBe(values);
    expect(Array.from(values)).toEqual(copy);
    tf.dispose([a, b, a2, b2, d]);
  });

  test("a stock kernel's zero-copy view keeps the array out of the pool", () => {
    const [a, b] = [uniform([16, 20], 7), uniform([20, 12], 8)];
    const c = tf.matMul(a, b);
    const view = tf.slice(c, [0, 0], [8, 12]); // contiguous: the cpu backend returns a subarray of c's array
    expect(storage(view).buffer).toBe(storage(c).buffer);
    const before = Array.from(storage(view));
    c.dispose();
    const [a2, b2] = [uniform([16, 20], 9), uniform([20, 12], 10)];
    const d = tf.matMul(a2, b2);
    expect(storage(d).buffer).not.toBe(storage(view).buffer);
    expect(Array.from(view.dataSync())).toEqual(before);
    tf.dispose([a, b, a2, b2, d, view]);
  });

  test("takeZeroed refills a recycled array; take keeps its stale values", () => {
    const backend = tf.backend() as CpuBackend;
    const n = 1237;
    const own = (x: Float32Array) => tf.engine().makeTensorFromTensorInfo(output(backend, [n], x));
    const x = take(n).fill(7);
    own(x).dispose();
    const stale = take(n);
    expect(stale).toBe(x);
    expect(stale[n - 1]).toBe(7);
    own(stale).dispose();
    const zeroed = takeZeroed(n);
    expect(zeroed).toBe(x);
    expect(zeroed.every((v) => v === 0)).toBe(true);
  });

  test("unregistering the native kernels empties the pool", async () => {
    const t = tf.matMul(uniform([8, 8], 11), uniform([8, 8], 12));
    t.dispose();
    expect(poolStats().pooledBytes).toBeGreaterThan(0);
    unregisterNativeKernels();
    expect(poolStats().pooledBytes).toBe(0);
    expect(await registerNativeKernels({ quiet: true })).toBe(true);
  });
});
