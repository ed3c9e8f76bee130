import * as tf from "@tensorflow/tfjs-core";
import { SelectiveLossError } from "./errors.ts";

/**
 * Per-token causal-LM cross-entropy from logits: ce[b, t] = logsumexp(logits[b, t]) − logits[b, t, ids[b, t+1]],
 * zeroed where invalid; valid[b, t] = mask[b, t] · mask[b, t+1] (all ones without a mask). Differentiable; plain tfjs
 * ops, so it runs on any backend. Shapes: logits [B, T, V], inputIds int32 [B, T] → ce, valid [B, T−1].
 */
export function tokenLosses(
  logits: tf.Tensor3D,
  inputIds: tf.Tensor2D,
  attentionMask?: tf.Tensor2D,
): { ce: tf.Tensor2D; valid: tf.Tensor2D } {
  const [B, T, V] = logits.shape;
  if (inputIds.rank !== 2 || inputIds.shape[0] !== B || inputIds.shape[1] !== T) {
    throw new SelectiveLossError("inputIds", `shape [${B}, ${T}] (like logits)`, `[${inputIds.shape}]`);
  }
  if (attentionMask && (attentionMask.shape[0] !== B || attentionMask.shape[1] !== T)) {
    throw new SelectiveLossError("attentionMask", `shape [${B}, ${T}]`, `[${attentionMask.shape}]`);
  }
  if (T < 2) throw new SelectiveLossError("inputIds", "at least 2 positions", `${T}`);
  return tf.tidy(() => {
    const scores = tf.slice(logits, [0, 0, 0], [B, T - 1, V]);
    const labels = tf.slice(tf.cast(inputIds, "int32"), [0, 1], [B, T - 1]);
    // An int32 one-hot cast to float32: some backends (wasm) write wrong values for a float32 oneHot.
    const hot = tf.cast(tf.oneHot(labels, V), "float32");
    const picked = tf.sum(tf.mul(scores, hot), -1);
    const mask = attentionMask ? tf.cast(attentionMask, "float32") : tf.ones([B, T]);
    const valid = tf.mul(
      tf.slice(mask, [0, 0], [B, T - 1]),
      tf.slice(mask, [0, 1], [B, T - 1]),
    ) as tf.Tensor2D;
    const ce = tf.mul(tf.sub(tf.logSumExp(scores, -1), picked), valid) as tf.Tensor2D;
    return { ce, valid };
  });
}
