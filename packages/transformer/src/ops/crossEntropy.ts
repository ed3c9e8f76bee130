import { crossEntropyRows } from "@rho1/selective-loss";
import type { tf } from "../tf.ts";
import { CROSS_ENTROPY } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

/**
 * Per-token cross-entropy: logits [N, V], int32 labels [N] → float32 [N] = logsumexp(logits[n]) − logits[n, label].
 * A label outside [0, V) gives 0. Without a fused kernel, the loss package's chunked composite: no one-hot and no
 * [N, V] softmax beyond one chunk of rows, in either direction.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (hasKernel(CROSS_ENTROPY)) return runKernel<tf.Tensor1D>(CROSS_ENTROPY, { logits, labels });
  return crossEntropyRows(logits, labels);
}
