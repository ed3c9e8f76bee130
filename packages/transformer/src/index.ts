export { registerBackendExtension, setupBackend } from "./backend.ts";
export { CausalLM } from "./causalLM.ts";
export {
  ConfigError,
  defaultSeqLen,
  type LlamaConfig,
  MAX_DEFAULT_SEQ_LEN,
  parseConfig,
  type RopeScaling,
  readConfig,
} from "./config.ts";
export { type GenerateOptions, type GenerateResult, NonFiniteLogitsError } from "./generate.ts";
export { type KvCache, parameterShapes } from "./model.ts";
export * as ops from "./ops/index.ts";
export { argmax, mulberry32, sampleToken } from "./sampling.ts";
export type { SaveOptions } from "./save.ts";
export { tf } from "./tf.ts";

import { crossEntropy } from "./ops/crossEntropy.ts";
import { tf } from "./tf.ts";

/**
 * Per-token cross-entropy through the CROSS_ENTROPY op: logits [..., V], int32 labels [...] → float32 [...].
 * A label outside [0, V) (e.g. −1 for padding) gives 0.
 */
export function tokenCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const v = logits.shape[logits.rank - 1];
    const ce = crossEntropy(
      tf.reshape(logits, [-1, v]) as tf.Tensor2D,
      tf.reshape(tf.cast(labels, "int32"), [-1]) as tf.Tensor1D,
    );
    return tf.reshape(ce, labels.shape);
  });
}
