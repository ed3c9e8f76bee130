import * as tf from "@tensorflow/tfjs-core";
import { type NamedTensors, namedMap } from "./named.ts";

/**
 * Global-norm clipping like torch.nn.utils.clip_grad_norm_: norm = ‖(‖g_i‖₂)_i‖₂ over all gradients;
 * coef = min(1, maxNorm / (norm + 1e-6)); every gradient is multiplied by coef. Returns the pre-clip norm.
 * Takes ownership: scaled gradients replace (and dispose) the inputs; unscaled ones are passed through.
 * `grads` is a Map or a `tf.NamedTensorMap` (what tf.variableGrads returns); the result is the same kind.
 * Reads the per-tensor sums synchronously (host backends); clipGradNormAsync works on every backend.
 */
export function clipGradNorm<G extends NamedTensors>(grads: G, maxNorm: number): { grads: G; norm: number } {
  const byName = namedMap(grads);
  if (byName.size === 0) return { grads, norm: 0 };
  const sums = squareSums(byName);
  const perTensor = sums.dataSync();
  sums.dispose();
  return scale(grads, byName, perTensor, maxNorm);
}

/** clipGradNorm with one `await data()` read (WebGPU has no synchronous read outside a browser). */
export async function clipGradNormAsync<G extends NamedTensors>(
  grads: G,
  maxNorm: number,
): Promise<{ grads: G; norm: number }> {
  const byName = namedMap(grads);
  if (byName.size === 0) return { grads, norm: 0 };
  const sums = squareSums(byName);
  const perTensor = await sums.data();
  sums.dispose();
  return scale(grads, byName, perTensor, maxNorm);
}

/** Per-tensor sums of squares on the backend (read back once; the total is summed in float64). */
function squareSums(byName: Map<string, tf.Tensor>): tf.Tensor {
  return tf.tidy(() => tf.stack([...byName.values()].map((g) => tf.sum(tf.square(g)))));
}

function scale<G extends NamedTensors>(
  grads: G,
  byName: Map<string, tf.Tensor>,
  perTensor: ArrayLike<number>,
  maxNorm: number,
): { grads: G; norm: number } {
  let total = 0;
  for (let i = 0; i < perTensor.length; i++) total += perTensor[i] as number;
  const norm = Math.fround(Math.sqrt(total));
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (!(coef < 1)) return { grads, norm };
  const factor = tf.scalar(coef);
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of byName) {
    out.set(name, tf.mul(g, factor));
    g.dispose();
  }
  factor.dispose();
  // The same kind of collection as given: a Map, or a plain object for optimizer.applyGradients.
  return { grads: (grads instanceof Map ? out : Object.fromEntries(out)) as G, norm };
}
