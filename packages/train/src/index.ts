export {
  ADAMW_KERNEL,
  AdamW,
  type AdamWOptions,
  type AdamWState,
  noDecayOf,
  WEIGHT_DECAY_GROUPS,
  type WeightDecayGroup,
} from "./adamw.ts";
export {
  checkpointName,
  latestCheckpoint,
  readCheckpointState,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.ts";
export { clipGradNorm } from "./clip.ts";
export { packText, type Sequence, type SequenceSource, scoredSource } from "./data.ts";
export { TrainError } from "./errors.ts";
export {
  type BatchGradients,
  type BatchStats,
  batchGradients,
  type MicroBatch,
  type SelectionOptions,
  type TrainableModel,
} from "./gradients.ts";
export type { NamedTensors, NamedVariables } from "./named.ts";
export { lossCurvesHtml, type StepMetrics } from "./report.ts";
export { Sampler, type SamplerState } from "./sampler.ts";
export { cosineSchedule, type ScheduleOptions } from "./schedule.ts";
export { type TrainOptions, type TrainSummary, train } from "./train.ts";
