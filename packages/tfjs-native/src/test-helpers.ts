/** Shared helpers for this package's tests (not exported from index.ts). */
import * as tf from "@tensorflow/tfjs-core";

/** max |a − b| / max |b|: a norm-wise relative error that stays meaningful where b has zeros. */
export function relErr(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape mismatch [${a.shape}] vs [${b.shape}]`);
  const x = a.dataSync();
  const y = b.dataSync();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  if (Number.isNaN(diff)) return Number.POSITIVE_INFINITY;
  return scale === 0 ? diff : diff / scale;
}

/** Deterministic uniform values in [lo, hi) from a small LCG (tests must not depend on tfjs's random state). */
export function uniform(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return tf.tensor(out, shape, "float32");
}

export function ints(shape: number[], seed: number, lo: number, hi: number): tf.Tensor {
  const u = uniform(shape, seed, lo, hi);
  const v = Int32Array.from(u.dataSync(), (x) => Math.floor(x));
  u.dispose();
  return tf.tensor(v, shape, "int32");
}

/**
 * Compares a native op with a reference forward and through autodiff: gradients of sum(f(xs) · R) for a random R
 * with respect to every float input. Returns the worst relative error per output.
 */
export function compareWithGrad(
  ref: (...xs: tf.Tensor[]) => tf.Tensor,
  nat: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  seed = 7,
): { forward: number; grads: number[] } {
  return tf.tidy(() => {
    const yr = ref(...xs);
    const yn = nat(...xs);
    const forward = relErr(yn, yr);
    const r = uniform(yr.shape, seed);
    const gr = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(ref(...a), r)))(xs);
    const gn = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(nat(...a), r)))(xs);
    return { forward, grads: gr.map((g, i) => relErr(gn[i], g)) };
  });
}
