export { INDEX_FILE, openCheckpoint, ShardedCheckpoint, SINGLE_FILE } from "./checkpoint.ts";
export {
  bf16ToFloat32,
  f16ToFloat32,
  float32ToBf16,
  float32ToF16,
  type NativeArray,
  toFloat32,
} from "./convert.ts";
export { DTYPES, type Dtype, dtypeSize, isDtype } from "./dtype.ts";
export { SafetensorsError } from "./errors.ts";
export { MAX_HEADER_BYTES, parseHeader, type TensorInfo } from "./header.ts";
export {
  numel,
  openSafetensors,
  openSafetensorsBytes,
  SafetensorsFile,
  type TensorSource,
} from "./source.ts";
export {
  DEFAULT_MAX_SHARD_BYTES,
  indexJson,
  planShards,
  serialize,
  serializeToBytes,
  type TensorsToWrite,
  type TensorToWrite,
  type WriteCheckpointOptions,
  writeCheckpoint,
  writeSafetensors,
  writeSafetensorsSync,
} from "./write.ts";
