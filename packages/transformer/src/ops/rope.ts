import type { RopeScaling } from "../config.ts";
import { tf } from "../tf.ts";
import { ROPE } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

/**
 * Rotary embedding (Hugging Face rotate_half convention) on x [B, T, nHeads, D] at int32 positions [B, T].
 * The composite builds cos/sin in float64 on the host (exact angles; positions are small) and applies
 * x·cos + rotate_half(x)·sin with tfjs ops, so autodiff gives the inverse rotation for the gradient.
 */
export function rope(
  x: tf.Tensor4D,
  positions: tf.Tensor2D,
  theta: number,
  scaling: RopeScaling | null,
): tf.Tensor4D {
  if (hasKernel(ROPE)) return runKernel<tf.Tensor4D>(ROPE, { x, positions }, { theta, scaling });
  const [b, t, , d] = x.shape;
  const { cos, sin } = ropeTables(positions.dataSync() as Int32Array, theta, scaling, d);
  return tf.tidy(() => {
    const c = tf.tensor4d(cos, [b, t, 1, d]);
    const s = tf.tensor4d(sin, [b, t, 1, d]);
    const [x1, x2] = tf.split(x, 2, 3);
    const rotated = tf.concat([tf.neg(x2), x1], 3);
    return tf.add(tf.mul(x, c), tf.mul(rotated, s)) as tf.Tensor4D;
  });
}

/** invFreq[i] = theta^(−2i/D), adjusted like transformers' ROPE_INIT_FUNCTIONS for "linear" and "llama3". */
export function inverseFrequencies(theta: number, d: number, scaling: RopeScaling | null): Float64Array {
  const half = d / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / d);
  if (!scaling) return inv;
  const factor = scaling.factor ?? 1;
  if (scaling.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= factor;
    return inv;
  }
  if (scaling.type === "llama3") {
    const oldContext = scaling.originalMaxPositionEmbeddings ?? 8192;
    const low = scaling.lowFreqFactor ?? 1;
    const high = scaling.highFreqFactor ?? 4;
    const lowWavelen = oldContext / low;
    const highWavelen = oldContext / high;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] /= factor;
      else if (wavelen >= highWavelen) {
        const smooth = (oldContext / wavelen - low) / (high - low);
        inv[i] = (1 - smooth) * (inv[i] / factor) + smooth * inv[i];
      }
    }
    return inv;
  }
  throw new Error(`rope scaling type ${JSON.stringify(scaling.type)} is not implemented`);
}

/** cos/sin [N, D] (halves duplicated) for N positions. */
export function ropeTables(
  positions: ArrayLike<number>,
  theta: number,
  scaling: RopeScaling | null,
  d: number,
): { cos: Float32Array; sin: Float32Array } {
  const inv = inverseFrequencies(theta, d, scaling);
  const half = d / 2;
  const cos = new Float32Array(positions.length * d);
  const sin = new Float32Array(positions.length * d);
  for (let n = 0; n < positions.length; n++) {
    const p = positions[n];
    for (let i = 0; i < half; i++) {
      const a = p * inv[i];
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[n * d + i] = c;
      cos[n * d + half + i] = c;
      sin[n * d + i] = s;
      sin[n * d + half + i] = s;
    }
  }
  return { cos, sin };
}
