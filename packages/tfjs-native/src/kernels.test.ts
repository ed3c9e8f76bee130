import { beforeAll, describe, expect, test } from "bun:test";
import { ops, type RopeScaling } from "@rho1/transformer";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import {
  ADAMW,
  ATTENTION,
  CROSS_ENTROPY,
  CROSS_ENTROPY_GRAD,
  EMBEDDING,
  NativeKernelError,
  nativeAvailability,
  RMS_NORM,
  ROPE,
  registerNativeKernels,
  SWIGLU,
} from "./index.ts";
import { compareWithGrad, ints, relErr, uniform } from "./test-helpers.ts";

const avail = nativeAvailability();
if (!avail.ok) console.log(`skipping native kernel tests: ${avail.reason}`);
const TOL = 1e-5;

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

// ---- pure-tfjs references (the semantics of packages/transformer/src/ops/*.ts) ----
function refRmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
}

/** The model's composite (its host cos/sin tables, then x·cos + rotate_half(x)·sin in tfjs ops). */
function refRope(x: tf.Tensor, positions: Int32Array, theta: number, scaling: RopeScaling | null): tf.Tensor {
  const [b, t, , d] = x.shape;
  const { cos, sin } = ops.ropeTables(positions, theta, scaling, d);
  const c = tf.tensor4d(cos, [b, t, 1, d]);
  const s = tf.tensor4d(sin, [b, t, 1, d]);
  const [x1, x2] = tf.split(x, 2, 3);
  return tf.add(tf.mul(x, c), tf.mul(tf.concat([tf.neg(x2), x1], 3), s));
}

/** Straightforward attention: KV heads repeated with gather, additive −1e9 mask, rows with no key zeroed. */
function refAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor,
  scale: number,
  qOff: number,
): tf.Tensor {
  const [b, tq, nh] = q.shape;
  const [, tk, nkv] = k.shape;
  const group = nh / nkv;
  const heads = tf.tensor1d(
    Array.from({ length: nh }, (_, h) => Math.floor(h / group)),
    "int32",
  );
  const kr = tf.transpose(tf.gather(k, heads, 2), [0, 2, 1, 3]);
  const vr = tf.transpose(tf.gather(v, heads, 2), [0, 2, 1, 3]);
  const qt = tf.transpose(q, [0, 2, 1, 3]);
  const causal = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) causal[i * tk + j] = j <= i + qOff ? 1 : 0;
  const visible = tf.mul(tf.tensor3d(causal, [1, tq, tk]), tf.reshape(mask, [b, 1, tk]));
  const bias = tf.reshape(tf.mul(tf.sub(visible, 1), 1e9), [b, 1, tq, tk]);
  const any = tf.reshape(tf.max(visible, -1), [b, 1, tq, 1]);
  const scores = tf.add(tf.mul(tf.matMul(qt, kr, false, true), scale), bias);
  const p = tf.mul(tf.softmax(scores), any);
  return tf.transpose(tf.matMul(p, vr), [0, 2, 1, 3]);
}

function refCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const [n, v] = logits.shape;
  const valid = tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, v));
  const safe = tf.where(valid, labels, tf.zerosLike(labels));
  const flat = tf.add(tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(v, "int32")), safe);
  const picked = tf.gather(tf.reshape(logits, [-1]), flat);
  return tf.mul(tf.sub(tf.logSumExp(logits, -1), picked), tf.cast(valid, "float32"));
}

describe.skipIf(!avail.ok)("native contract kernels vs pure tfjs", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    expect(await registerNativeKernels()).toBe(true);
  });

  test("RMSNorm forward and gradient, odd widths", () => {
    for (const [shape, seed] of [
      [[2, 3, 37], 1],
      [[5, 256], 2],
      [[1, 3], 3],
      [[70, 33], 4],
    ] as [number[], number][]) {
      const x = uniform(shape, seed, -3, 3);
      const w = uniform([shape[shape.length - 1]], seed + 100, 0.5, 1.5);
      const r = compareWithGrad(
        (a, b) => refRmsNorm(a, b, 1e-5),
        (a, b) => run(RMS_NORM, { x: a, weight: b }, { eps: 1e-5 }),
        [x, w],
      );
      expect(r.forward).toBeLessThan(TOL);
      for (const g of r.grads) expect(g).toBeLessThan(TOL);
    }
  });

  test("RoPE forward and gradient with every scaling kind and offset positions", () => {
    const cases: [RopeScaling | null, number][] = [
      [null, 10000],
      [{ type: "linear", factor: 4 }, 10000],
      [
        { type: "llama3", factor: 8, originalMaxPositionEmbeddings: 64, lowFreqFactor: 1, highFreqFactor: 4 },
        500000,
      ],
    ];
    for (const [scaling, theta] of cases) {
      const x = uniform([2, 5, 3, 16], 11);
      const pos = ints([2, 5], 12, 0, 3000);
      const posData = pos.dataSync() as Int32Array;
      const r = compareWithGrad(
        (a) => refRope(a, posData, theta, scaling),
        (a) => run(ROPE, { x: a, positions: pos }, { theta, scaling }),
        [x],
      );
      expect(r.forward).toBeLessThan(TOL);
      expect(r.grads[0]).toBeLessThan(TOL);
    }
  });

  test("RoPE rejects unknown scaling and odd head dims", () => {
    const pos = ints([1, 2], 1, 0, 5);
    expect(() =>
      run(ROPE, { x: uniform([1, 2, 1, 4], 1), positions: pos }, { theta: 1e4, scaling: { type: "yarn" } }),
    ).toThrow("not implemented");
    expect(() =>
      run(ROPE, { x: uniform([1, 2, 1, 5], 1), positions: pos }, { theta: 1e4, scaling: null }),
    ).toThrow(NativeKernelError);
  });

  test("attention forward and gradient: GQA ratios, padding, empty rows, queryOffset, query blocks", () => {
    const cases = [
      // b, tq, tk, nh, nkv, d, qOff, mask pattern
      { b: 2, tq: 7, tk: 7, nh: 4, nkv: 2, d: 8, qOff: 0, pad: "left" },
      { b: 2, tq: 9, tk: 9, nh: 3, nkv: 3, d: 5, qOff: 0, pad: "right" },
      { b: 1, tq: 3, tk: 10, nh: 6, nkv: 2, d: 4, qOff: 7, pad: "none" },
      { b: 2, tq: 1, tk: 6, nh: 4, nkv: 1, d: 8, qOff: 5, pad: "left" },
      { b: 1, tq: 150, tk: 150, nh: 2, nkv: 1, d: 16, qOff: 0, pad: "right" },
      { b: 2, tq: 4, tk: 4, nh: 2, nkv: 2, d: 4, qOff: 0, pad: "all" },
    ];
    let seed = 20;
    for (const c of cases) {
      const q = uniform([c.b, c.tq, c.nh, c.d], seed++, -2, 2);
      const k = uniform([c.b, c.tk, c.nkv, c.d], seed++, -2, 2);
      const v = uniform([c.b, c.tk, c.nkv, c.d], seed++);
      const m = new Float32Array(c.b * c.tk).fill(1);
      for (let j = 0; j < c.tk; j++) {
        if (c.pad === "left" && j < 2) m[j] = 0; // batch row 0: first two keys padded (query 0/1 see nothing)
        if (c.pad === "right" && j >= c.tk - 3) m[(c.b - 1) * c.tk + j] = 0;
        if (c.pad === "all") m[j] = 0; // batch row 0 sees no key at all
      }
      const mask = tf.tensor2d(m, [c.b, c.tk]);
      const scale = 1 / Math.sqrt(c.d);
      const attrs = { scale, queryOffset: c.qOff };
      const r = compareWithGrad(
        (a, b, d) => refAttention(a, b, d, mask, scale, c.qOff),
        (a, b, d) => run(ATTENTION, { q: a, k: b, v: d, keyMask: mask }, attrs),
        [q, k, v],
      );
      expect(r.forward).toBeLessThan(TOL);
      for (const g of r.grads) expect(g).toBeLessThan(TOL);
      if (c.pad === "all") {
        const out = run(ATTENTION, { q, k, v, keyMask: mask }, attrs);
        expect(Math.max(...tf.abs(tf.slice(out, [0], [1])).dataSync())).toBe(0);
      }
    }
  });

  test("attention rejects a KV head count that does not divide the query heads", () => {
    const mask = tf.ones([1, 3]);
    expect(() =>
      run(
        ATTENTION,
        {
          q: uniform([1, 3, 4, 2], 1),
          k: uniform([1, 3, 3, 2], 2),
          v: uniform([1, 3, 3, 2], 3),
          keyMask: mask,
        },
        { scale: 1, queryOffset: 0 },
      ),
    ).toThrow(NativeKernelError);
  });

  test("SwiGLU forward and gradient", () => {
    const g = uniform([3, 7, 689], 31, -12, 12);
    const u = uniform([3, 7, 689], 32, -2, 2);
    const r = compareWithGrad(
      (a, b) => tf.mul(tf.mul(a, tf.sigmoid(a)), b),
      (a, b) => run(SWIGLU, { gate: a, up: b }),
      [g, u],
    );
    expect(r.forward).toBeLessThan(TOL);
    for (const e of r.grads) expect(e).toBeLessThan(TOL);
  });

  test("cross-entropy forward and gradient with ignored labels", () => {
    const logits = uniform([13, 1001], 41, -8, 8);
    const lab = ints([13], 42, 0, 1001).dataSync() as Int32Array;
    lab[2] = -1;
    lab[5] = 1001;
    lab[7] = -100;
    const labels = tf.tensor1d(lab, "int32");
    const r = compareWithGrad(
      (x) => refCrossEntropy(x, labels),
      (x) => run(CROSS_ENTROPY, { logits: x, labels }),
      [logits],
    );
    expect(r.forward).toBeLessThan(TOL);
    expect(r.grads[0]).toBeLessThan(TOL);
    // The backward pass reuses the forward's row logsumexps; without a forward on these logits it recomputes them.
    const dy = uniform([13], 43);
    const fresh = tf.add(logits, 0); // new dataId: nothing cached
    const recomputed = run(CROSS_ENTROPY_GRAD, { dy, logits: fresh, labels });
    run(CROSS_ENTROPY, { logits: fresh, labels });
    const reused = run(CROSS_ENTROPY_GRAD, { dy, logits: fresh, labels });
    expect(relErr(reused, recomputed)).toBeLessThan(1e-6);
    const loss = run(CROSS_ENTROPY, { logits, labels }).dataSync();
    expect([loss[2], loss[5], loss[7]]).toEqual([0, 0, 0]);
    expect(loss[0]).toBeGreaterThan(1);
  });

  test("embedding forward and scatter-add gradient with repeated ids; bad ids throw", () => {
    const table = uniform([11, 6], 51);
    const ids = tf.tensor2d([3, 4, 3, 0, 10, 3, 7, 4], [2, 4], "int32");
    const r = compareWithGrad(
      (t) => tf.reshape(tf.gather(t, tf.reshape(ids, [-1])), [2, 4, 6]),
      (t) => run(EMBEDDING, { table: t, ids }),
      [table],
    );
    expect(r.forward).toBe(0);
    expect(r.grads[0]).toBeLessThan(TOL);
    expect(() => run(EMBEDDING, { table, ids: tf.tensor1d([1, 11], "int32") })).toThrow(
      "ids[1] must be in [0, 10]",
    );
    expect(() => run(EMBEDDING, { table, ids: tf.tensor1d([-1], "int32") })).toThrow(NativeKernelError);
  });

  test("AdamW matches the PyTorch formula over several steps", () => {
    const shape = [37, 5];
    let p = uniform(shape, 61);
    let m = tf.zeros(shape);
    let v = tf.zeros(shape);
    let pr = p.clone();
    let mr = tf.zeros(shape);
    let vr = tf.zeros(shape);
    const [lr, b1, b2, eps, wd] = [1e-2, 0.9, 0.95, 1e-8, 0.1];
    for (let step = 1; step <= 5; step++) {
      const g = uniform(shape, 70 + step);
      [p, m, v] = tf
        .engine()
        .runKernel(
          ADAMW,
          { param: p, grad: g, m, v },
          { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step },
        ) as tf.Tensor[];
      const decayed = tf.sub(pr, tf.mul(pr, lr * wd));
      mr = tf.add(tf.mul(mr, b1), tf.mul(g, 1 - b1));
      vr = tf.add(tf.mul(vr, b2), tf.mul(tf.square(g), 1 - b2));
      const mhat = tf.div(mr, 1 - b1 ** step);
      const vhat = tf.div(vr, 1 - b2 ** step);
      pr = tf.sub(decayed, tf.mul(tf.div(mhat, tf.add(tf.sqrt(vhat), eps)), lr));
    }
    expect(relErr(p, pr)).toBeLessThan(TOL);
    expect(relErr(m, mr)).toBeLessThan(TOL);
    expect(relErr(v, vr)).toBeLessThan(TOL);
    expect(relErr(p, uniform(shape, 61))).toBeGreaterThan(1e-3); // it moved
    expect(() =>
      tf
        .engine()
        .runKernel(
          ADAMW,
          { param: p, grad: tf.zeros([3]), m, v },
          { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step: 1 },
        ),
    ).toThrow(NativeKernelError);
  });
});
