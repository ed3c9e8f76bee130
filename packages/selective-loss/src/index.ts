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
export { type HistogramOptions, histogram, type SelectionStats, selectionStats } from "./stats.ts";
export { tokenLosses } from "./token-losses.ts";
