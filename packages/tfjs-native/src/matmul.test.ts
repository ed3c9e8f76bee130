import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { nativeAvailability, nativeStatus, registerNativeKernels, unregisterNativeKernels } from "./index.ts";
import { relErr, uniform } from "./test-helpers.ts";

const avail = nativeAvailability();
if (!avail.ok) console.log(`skipping native matmul tests: ${avail.reason}`);

/** Runs fn with the stock cpu kernels, returning plain arrays (tensors are disposed before switching back). */
async function stock<T>(fn: () => T): Promise<T> {
  unregisterNativeKernels();
  try {
    return fn();
  } finally {
    expect(await registerNativeKernels()).toBe(true);
  }
}

const snapshot = (t: tf.Tensor) => ({ shape: t.shape, data: t.dataSync().slice() });
const asTensor = (s: { shape: number[]; data: Float32Array | Int32Array | Uint8Array }) =>
  tf.tensor(s.data, s.shape);

describe.skipIf(!avail.ok)("native MatMul / BatchMatMul / _FusedMatMul", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    expect(await registerNativeKernels()).toBe(true);
  });
  afterAll(() => {
    // Leave the process as other test files expect it: native registered.
  });

  const shapes: [number[], number[], string][] = [
    [[5, 7], [7, 3], "2d"],
    [[4, 5, 7], [4, 7, 3], "batched"],
    [[4, 5, 7], [7, 3], "a batched, b shared (folded)"],
    [[5, 7], [3, 7, 3], "a shared"],
    [[2, 1, 5, 7], [1, 7, 3], "batch dims broadcast, b lower rank"],
    [[1, 3, 5, 7], [2, 1, 7, 3], "stock-compatible 1-broadcast"],
  ];

  test("every transpose combination equals the stock kernel", async () => {
    for (const [sa, sb, label] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const shapeA = ta ? [...sa.slice(0, -2), sa[sa.length - 1], sa[sa.length - 2]] : sa;
          const shapeB = tb ? [...sb.slice(0, -2), sb[sb.length - 1], sb[sb.length - 2]] : sb;
          const a = uniform(shapeA, 3);
          const b = uniform(shapeB, 4);
          const ours = tf.matMul(a, b, ta, tb);
          // The stock kernel only broadcasts when a batch is 1 or equal; tile to full batches for it.
          const outer = ours.shape.slice(0, -2);
          const full = (t: tf.Tensor) => {
            const lead = t.shape.slice(0, -2);
            const padded = [...new Array(outer.length - lead.length).fill(1), ...lead];
            const r = tf.reshape(t, [...padded, ...t.shape.slice(-2)]);
            return tf.tile(r, [...outer.map((d, i) => (padded[i] === 1 ? d : 1)), 1, 1]);
          };
          const ref = await stock(() => snapshot(tf.matMul(full(a), full(b), ta, tb)));
          const err = relErr(ours, asTensor(ref));
          if (err >= 1e-5) throw new Error(`${label} ta=${ta} tb=${tb}: rel err ${err}`);
        }
      }
    }
  });

  test("gradients with broadcast batch dims equal the reduced reference", () => {
    for (const [sa, sb, label] of shapes) {
      const a = uniform(sa, 5);
      const b = uniform(sb, 6);
      const out = tf.matMul(a, b);
      const r = uniform(out.shape, 7);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), r)))([a, b]);
      expect(ga.shape).toEqual(a.shape);
      expect(gb.shape).toEqual(b.shape);
      // Reference: d/dA = R·Bᵀ and d/dB = Aᵀ·R at full batch, summed over the dims each operand broadcast on.
      const outer = out.shape.slice(0, -2);
      const expand = (t: tf.Tensor) => tf.broadcastTo(t, [...outer, ...t.shape.slice(-2)]);
      const reduce = (g: tf.Tensor, shape: number[]) => {
        const off = g.rank - shape.length;
        const axes = outer.map((_, i) => i).filter((i) => i < off || shape[i - off] === 1);
        return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
      };
      const refA = reduce(tf.matMul(r, expand(b), false, true), a.shape);
      const refB = reduce(tf.matMul(expand(a), r, true, false), b.shape);
      expect([label, relErr(ga, refA) < 1e-5, relErr(gb, refB) < 1e-5]).toEqual([label, true, true]);
    }
  });

  test("_FusedMatMul with bias and relu equals the stock kernel; other activations fall back", async () => {
    const a = uniform([6, 9], 8);
    const b = uniform([5, 9], 9);
    const bias = uniform([5], 10);
    for (const activation of ["linear", "relu", "elu"] as const) {
      const ours = tf.fused.matMul({ a, b, transposeB: true, bias, activation });
      const ref = await stock(() => snapshot(tf.fused.matMul({ a, b, transposeB: true, bias, activation })));
      expect(relErr(ours, asTensor(ref))).toBeLessThan(1e-5);
    }
  });

  test("same-shape float32 Add is native and exact; broadcasting and int32 adds use the stock kernel", async () => {
    const a = uniform([3, 77, 129], 21);
    const b = uniform([3, 77, 129], 22);
    const ours = tf.add(a, b);
    const ref = await stock(() => snapshot(tf.add(a, b)));
    expect(relErr(ours, asTensor(ref))).toBe(0);
    expect(Array.from(tf.add(tf.ones([2, 3]), tf.tensor1d([1, 2, 3])).dataSync())).toEqual([
      2, 3, 4, 2, 3, 4,
    ]);
    const ints = tf.add(tf.tensor1d([1, 2], "int32"), tf.tensor1d([3, 4], "int32"));
    expect([ints.dtype, ...ints.dataSync()]).toEqual(["int32", 4, 6]);
  });

  test("int32 matmuls keep their dtype (stock kernel)", () => {
    const c = tf.matMul(
      tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"),
      tf.tensor2d([5, 6, 7, 8], [2, 2], "int32"),
    );
    expect(c.dtype).toBe("int32");
    expect(Array.from(c.dataSync())).toEqual([19, 22, 43, 50]);
  });

  test("empty and degenerate shapes", () => {
    expect(tf.matMul(tf.zeros([0, 3]), tf.ones([3, 4])).shape).toEqual([0, 4]);
    const k0 = tf.matMul(tf.zeros([2, 0]), tf.ones([0, 3]));
    expect(Array.from(k0.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow("inner shapes");
  });

  test("one-row products over a large B (the sgemv path) equal the stock kernel", async () => {
    // n·k = 4100·256 ≥ 2^20 elements takes sgemv in blas.c; also batched (one row per batch) and transposed A.
    const cases: [number[], number[], boolean, boolean][] = [
      [[1, 256], [4100, 256], false, true],
      [[1, 256], [256, 4100], false, false],
      [[256, 1], [4100, 256], true, true],
      [[2, 1, 256], [2, 256, 4100], false, false],
      [[3, 1, 256], [4100, 256], false, true],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = uniform(sa, 31);
      const b = uniform(sb, 32);
      const ours = tf.matMul(a, b, ta, tb);
      const outer = ours.shape.slice(0, -2);
      const bFull = b.rank < a.rank ? tf.tile(tf.expandDims(b, 0), [...outer, 1, 1]) : b;
      const ref = await stock(() => snapshot(tf.matMul(a, bFull, ta, tb)));
      expect([sa, sb, ta, tb, relErr(ours, asTensor(ref)) < 1e-5]).toEqual([sa, sb, ta, tb, true]);
    }
  }, 30_000);

  test("large sgemm matches a float64 reference", () => {
    const a = uniform([300, 257], 11);
    const b = uniform([257, 129], 12);
    const c = tf.matMul(a, b).dataSync();
    const av = a.dataSync();
    const bv = b.dataSync();
    let worst = 0;
    for (const [i, j] of [
      [0, 0],
      [299, 128],
      [150, 64],
    ]) {
      let s = 0;
      for (let k = 0; k < 257; k++) s += av[i * 257 + k] * bv[k * 129 + j];
      worst = Math.max(worst, Math.abs(c[i * 129 + j] - s));
    }
    expect(worst).toBeLessThan(1e-4);
    expect(nativeStatus().kernels).toContain("BatchMatMul");
  });
});

describe.skipIf(!avail.ok)("built-in SGEMM", () => {
  const probe = join(import.meta.dir, "fixtures", "gemm-probe.ts");
  const run = (kernel: string, threads: number) => {
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    Object.assign(env, { RHO1_BLAS: "builtin", RHO1_GEMM_KERNEL: kernel, RHO1_THREADS: String(threads) });
    const proc = Bun.spawnSync([process.execPath, probe], { env, stderr: "pipe" });
    const lines = proc.stdout.toString().trim().split("\n");
    if (proc.exitCode !== 0) throw new Error(`gemm probe failed: ${proc.stderr.toString()}`);
    return JSON.parse(lines[lines.length - 1]);
  };

  // Every micro-kernel this CPU runs (the others report unsupported), on 1 and 3 threads: all transpose cases, edges,
  // several K blocks, one-row products and batches within float32 rounding of a float64 reference, and the same
  // bytes whatever the thread count (threads split the output, never K).
  for (const kernel of ["avx512", "avx2", "neon", "portable"]) {
    test(`${kernel} micro-kernel: exact to float32 rounding, identical on 1 and 3 threads`, () => {
      const one = run(kernel, 1);
      if (!one.registered) {
        expect(String(one.reason)).toContain("does not support");
        return;
      }
      expect(one.blas).toContain(`built-in SGEMM ${kernel}`);
      expect(one.worst).toBeLessThan(2e-6);
      const three = run(kernel, 3);
      expect(three.blas).toContain("3 threads");
      expect(three.hash).toBe(one.hash);
    }, 120_000);
  }
});
