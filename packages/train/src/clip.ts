import * as tf from "@tensorflow/tfjs-core";
import { type NamedTensors, namedMap } from "./named.ts";

/**
 * Global-norm clipping like torch.nn.utils.clip_grad_norm_: norm = ‖(‖g_i‖₂)_i‖₂ over all gradients;
 * coef = min(1, maxNorm / (norm + 1e-6)); every gradient is multiplied by coef. Returns the pre-clip norm.
 * Takes ownership: scaled gradients replace (and dispose) the inputs; unscaled ones are passed through.
 * `grads` is a Map or a `tf.NamedTensorMap` (what tf.variableGrads returns); the result is the same kind.
 */
export function clipGradNorm<G extends NamedTensors>(grads: G, maxNorm: number): { grads: G; norm: number } {
  const byName = namedMap(grads);
  const tensors = [...byName.values()];
  if (tensors.length === 0) return { grads, norm: 0 };
  // Per-tensor sums of squares on the backend, one read-back, the total in float64.
  const sums = tf.tidy(() => tf.stack(tensors.map((g) => tf.sum(tf.square(g)))));
  const perTensor = sums.dataSync();
  sums.dispose();
  let total = 0;
  for (const s of perTensor) total += s;
  const norm = Math.fround(Math.sqrt(total));
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (!(coef < 1)) return { grads, norm };
  const scale = tf.scalar(coef);
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of byName) {
    out.set(name, tf.mul(g, scale));
    g.dispose();
  }
  scale.dispose();
  // The same kind of collection as given: a Map, or a plain object for optimizer.applyGradients.
  return { grads: (grads instanceof Map ? out : Object.fromEntries(out)) as G, norm };
}
