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
export {
  type ReferenceModel,
  referenceLosses,
  type SelectiveLossInput,
  type SelectiveLossResult,
  selectiveLoss,
} from "./selective-loss.ts";
export {
  combineStats,
  type HistogramOptions,
  histogram,
  type SelectionStats,
  selectionStats,
} from "./stats.ts";
export { tokenLosses } from "./token-losses.ts";
