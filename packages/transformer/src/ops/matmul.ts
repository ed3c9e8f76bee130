import { tf } from "../tf.ts";

/**
 * y = x · Wᵀ for a Hugging Face Linear weight W [out, in] (no bias), x [..., in] → [..., out]. Goes through
 * tf.matMul so a backend's MatMul/BatchMatMul kernel (e.g. OpenBLAS) speeds it up without a contract name.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => {
    const inDim = x.shape[x.rank - 1];
    const lead = x.shape.slice(0, -1);
    const y = tf.matMul(tf.reshape(x, [-1, inDim]) as tf.Tensor2D, weight, false, true);
    return tf.reshape(y, [...lead, weight.shape[0]]);
  });
}
