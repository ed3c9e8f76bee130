import { tf } from "../tf.ts";
import { CROSS_ENTROPY } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

/**
 * Per-token cross-entropy: logits [N, V], int32 labels [N] → float32 [N] = logsumexp(logits[n]) − logits[n, label].
 * A label outside [0, V) gives 0. The composite is one stable logsumexp with the fused gradient softmax − onehot.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (hasKernel(CROSS_ENTROPY)) return runKernel<tf.Tensor1D>(CROSS_ENTROPY, { logits, labels });
  const [n, vocab] = logits.shape;
  const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const validMask = tf.logicalAnd(tf.greaterEqual(y, 0), tf.less(y, vocab));
    const safe = tf.where(validMask, y, tf.zerosLike(y)) as tf.Tensor1D;
    const valid = tf.cast(validMask, "float32");
    const max = tf.max(x, -1, true);
    const shifted = tf.sub(x, max);
    const lse = tf.log(tf.sum(tf.exp(shifted), -1));
    const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(vocab, "int32")), safe);
    const picked = tf.gather(tf.reshape(shifted, [-1]), flatIndex);
    const value = tf.mul(tf.sub(lse, picked), valid);
    save([x, safe, valid]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, labelsSafe, validF] = saved;
        const probs = tf.softmax(xs as tf.Tensor2D);
        const onehot = tf.cast(tf.oneHot(labelsSafe as tf.Tensor1D, vocab), "float32");
        const scale = tf.reshape(tf.mul(dy, validF), [-1, 1]);
        return [tf.mul(tf.sub(probs, onehot), scale), tf.zeros(labelsSafe.shape)];
      },
    };
  });
  return ce(logits, labels) as tf.Tensor1D;
}
