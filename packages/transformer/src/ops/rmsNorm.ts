import { tf } from "../tf.ts";
import { RMS_NORM } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

/** y = x / sqrt(mean(x², last axis) + eps) · weight, in float32 like transformers' LlamaRMSNorm. */
export function rmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T {
  if (hasKernel(RMS_NORM)) return runKernel<T>(RMS_NORM, { x, weight }, { eps });
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight) as T;
  });
}
