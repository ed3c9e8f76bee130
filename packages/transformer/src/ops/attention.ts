import { tf } from "../tf.ts";
import { ATTENTION } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

export interface AttentionOptions {
  scale: number;
  /** Key index of query 0 (0 for a full pass, the cache length when decoding). */
  queryOffset: number;
  /** Mistral's sliding window: query i sees key j only if (i + queryOffset) − j < window. Null: unlimited. */
  slidingWindow?: number | null;
}

/**
 * Causal grouped-query attention: q [B, Tq, nHeads, D], k/v [B, Tk, nKv, D], keyMask float32 [B, Tk] → [B, Tq, nHeads, D].
 * The composite never materialises repeated KV heads: query heads are grouped per KV head, so each matmul is a
 * plain rank-3 batch matmul (tfjs's matmul gradient breaks on broadcast batch dims).
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  keyMask: tf.Tensor2D,
  opts: AttentionOptions,
): tf.Tensor4D {
  const [b, tq, nHeads, d] = q.shape;
  const [, tk, nKv] = k.shape;
  const window = opts.slidingWindow ?? null;
  // The contract kernel has no window attribute: a window that actually cuts keys forces the composite.
  const windowCuts = window !== null && tq + opts.queryOffset > window;
  if (hasKernel(ATTENTION) && !windowCuts) {
    return runKernel<tf.Tensor4D>(
      ATTENTION,
      { q, k, v, keyMask },
      { scale: opts.scale, queryOffset: opts.queryOffset },
    );
  }
  const group = nHeads / nKv;
  return tf.tidy(() => {
    // visible[i, j] for the causal (and window) structure, shared by every batch row.
    const allowed = new Float32Array(tq * tk);
    for (let i = 0; i < tq; i++) {
      const pos = i + opts.queryOffset;
      for (let j = 0; j < tk; j++) {
        if (j <= pos && (window === null || pos - j < window)) allowed[i * tk + j] = 1;
      }
    }
    const visible = tf.mul(tf.tensor3d(allowed, [1, tq, tk]), tf.reshape(keyMask, [b, 1, tk])); // [B, Tq, Tk]
    const bias = tf.reshape(tf.mul(tf.sub(visible, 1), 1e9), [b, 1, tq, tk]);
    const rowAny = tf.reshape(tf.max(visible, -1), [b, 1, tq, 1]);

    const qg = tf.reshape(tf.transpose(tf.reshape(q, [b, tq, nKv, group, d]), [0, 2, 3, 1, 4]), [
      b * nKv,
      group * tq,
      d,
    ]);
    const kg = tf.reshape(tf.transpose(k, [0, 2, 1, 3]), [b * nKv, tk, d]);
    const vg = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [b * nKv, tk, d]);
    const scores = tf.mul(tf.matMul(qg, kg, false, true), opts.scale);
    const probs = tf.mul(tf.softmax(tf.add(tf.reshape(scores, [b, nHeads, tq, tk]), bias)), rowAny);
    const out = tf.matMul(tf.reshape(probs, [b * nKv, group * tq, tk]) as tf.Tensor3D, vg);
    return tf.reshape(tf.transpose(tf.reshape(out, [b, nKv, group, tq, d]), [0, 3, 1, 2, 4]), [
      b,
      tq,
      nHeads,
      d,
    ]);
  });
}
