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
  type HfTrainerState,
  type LogEntry,
  latestCheckpoint,
  listCheckpoints,
  RHO1_STATE_FILE,
  type Rho1State,
  readCheckpointState,
  readRho1State,
  readTrainerState,
  saveCheckpoint,
  TRAINER_STATE_FILE,
} from "./checkpoint.ts";
export { clipGradNorm, clipGradNormAsync } from "./clip.ts";
export { packText, type Sequence, type SequenceSource, scoredSource } from "./data.ts";
export { TrainError } from "./errors.ts";
export { meanLoss, sequenceLosses } from "./evaluate.ts";
export { type ExportDtype, type ExportSummary, exportCheckpoint, modelCard } from "./export.ts";
export {
  type BatchGradients,
  type BatchStats,
  batchGradients,
  type MicroBatch,
  type SelectionOptions,
  type TrainableModel,
} from "./gradients.ts";
export type { NamedTensors, NamedVariables } from "./named.ts";
export {
  type EvalMetrics,
  isEvalLine,
  lossCurvesHtml,
  type MetricsLine,
  readMetricsLines,
  type StepMetrics,
} from "./report.ts";
export { Sampler, type SamplerState } from "./sampler.ts";
export { cosineSchedule, type ScheduleOptions } from "./schedule.ts";
export { type TrainOptions, type TrainSummary, train } from "./train.ts";
