export {
  registerBackendExtension,
  registerWebGPUProvider,
  setupBackend,
  type WebGPUProvider,
} from "./backend.ts";
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
export { canReadSync, tf } from "./tf.ts";
