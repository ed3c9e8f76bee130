// A loss is for training: every tfjs-core gradient is registered on import (under Node as well as Bun).
import "@rho1/tfjs-gradients";

export {
  excessLoss,
  type LossPart,
  selectionDenominator,
  selectParts,
  selectSequences,
  targetValidity,
} from "./batch.ts";
export { CATEGORIES, type CategoryResult, type TokenCategory, tokenCategories } from "./categories.ts";
export { SelectiveLossError } from "./errors.ts";
export { type SelectionScope, selectionCount, selectTokens } from "./select.ts";
export { selectTokensOnDevice } from "./select-device.ts";
export {
  type DeviceSelectiveLossInput,
  type ReferenceModel,
  referenceLosses,
  referenceLossesAsync,
  type SelectiveLossInput,
  type SelectiveLossResult,
  selectiveLoss,
  selectiveLossOnDevice,
} from "./selective-loss.ts";
export {
  combineStats,
  type HistogramOptions,
  histogram,
  type SelectionStats,
  selectionStats,
} from "./stats.ts";
export { crossEntropyRows, tokenLosses } from "./token-losses.ts";
