import * as tf from "@tensorflow/tfjs-core";
import { excessLoss } from "./batch.ts";
import { SelectiveLossError } from "./errors.ts";
import { checkRatio, type SelectionScope, selectTokens } from "./select.ts";
import { selectTokensOnDevice } from "./select-device.ts";
import { type HistogramOptions, type SelectionStats, selectionStats } from "./stats.ts";

/** Anything that scores tokens like a causal LM: e.g. @rho1/transformer's CausalLM. */
export interface ReferenceModel {
  tokenLosses(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): { ce: tf.Tensor; valid?: tf.Tensor };
}

export interface SelectiveLossInput {
  /** [B, T] per-token CE of the model being trained, differentiable. */
  ce: tf.Tensor2D;
  /** [B, T] (or flat B·T) per-token reference losses (precomputed scores). Optional with `referenceModel`, or when
   *  `ratio` is 1 (plain causal LM, nothing to rank). */
  refLoss?: tf.Tensor2D | Float32Array;
  /** [B, T] 0/1: which tokens count. */
  valid: tf.Tensor2D;
  /** Host copies of `ce` and `valid` (e.g. `ce` read with `await data()` from an untaped pass): used for the ranking
   *  and the stats instead of reading the tensors, which a WebGPU backend cannot do synchronously. */
  ceValues?: Float32Array;
  validValues?: Float32Array;
  /** Fraction of valid tokens kept, in (0, 1]. 1 = plain causal LM. */
  ratio: number;
  /** "batch" (default, the paper) ranks all tokens of the batch; "sequence" ranks each row alone. */
  scope?: SelectionScope;
  /** Score the batch with this model instead of `refLoss` (needs `inputIds`, and `attentionMask` if padded). */
  referenceModel?: ReferenceModel;
  inputIds?: tf.Tensor2D;
  attentionMask?: tf.Tensor2D;
  /** A selection made over a larger batch this one is part of (`selectParts` over all micro-batches): skips the
   *  ranking here. */
  selected?: Float32Array;
  /** Divide the selected CE sum by this instead of this batch's selected count: the whole batch's
   *  (`selectionDenominator`), so that micro-batch losses add up to the batch loss. */
  denominator?: number;
  histogram?: HistogramOptions;
}

export interface SelectiveLossResult {
  /** sum(ce · selected) / nSelected (or / denominator): differentiable w.r.t. `ce` only. */
  loss: tf.Scalar;
  /** [B, T] 0/1 float32 selection mask (no gradient). The caller disposes it. */
  selected: tf.Tensor2D;
  /** The same mask as host data. */
  selectedValues: Float32Array;
  stats: SelectionStats;
}

/** Per-token losses of a reference model on a batch, as plain data (never on a gradient tape). */
export function referenceLosses(model: ReferenceModel, inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D) {
  const ce = tf.tidy(() => model.tokenLosses(inputIds, attentionMask).ce);
  try {
    return Float32Array.from(readSync(ce, "referenceModel", "referenceLossesAsync"));
  } finally {
    ce.dispose();
  }
}

/** The same, read with `await data()`: works on every backend, WebGPU included (it has no synchronous read). */
export async function referenceLossesAsync(
  model: ReferenceModel,
  inputIds: tf.Tensor2D,
  attentionMask?: tf.Tensor2D,
): Promise<Float32Array> {
  const ce = tf.tidy(() => model.tokenLosses(inputIds, attentionMask).ce);
  try {
    return Float32Array.from((await ce.data()) as Float32Array);
  } finally {
    ce.dispose();
  }
}

/**
 * A tensor's values read synchronously, as a Float32Array. A backend that cannot (WebGPU outside a browser) fails
 * with a typed error naming `field` and the asynchronous way, `instead`, rather than with the backend's own.
 */
function readSync(x: tf.Tensor, field: string, instead: string): Float32Array {
  let data: ArrayLike<number>;
  try {
    data = x.dataSync() as ArrayLike<number>;
  } catch (error) {
    if (x.isDisposed) throw error;
    throw new SelectiveLossError(
      field,
      `a tensor on a backend that reads synchronously (on ${tf.getBackend()} use ${instead})`,
      `one that cannot: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

function floats(x: tf.Tensor | Float32Array, field: string): Float32Array {
  return x instanceof Float32Array ? x : readSync(x, field, "selectiveLossOnDevice");
}

/**
 * The Selective Language Modeling loss (Rho-1): rank valid tokens by excess loss ce − ref, keep the top `ratio`,
 * average the CE of the kept tokens. The ranking reads tensor data, so no gradient flows through the selection;
 * unselected tokens still serve as context in the forward pass that produced `ce`.
 */
export function selectiveLoss(input: SelectiveLossInput): SelectiveLossResult {
  const { ce, valid, ratio } = input;
  const scope = input.scope ?? "batch";
  checkRatio(ratio);
  if (ce.rank !== 2) throw new SelectiveLossError("ce", "a [B, T] tensor", `rank ${ce.rank}`);
  const [B, T] = ce.shape;
  const n = B * T;
  if (valid.shape[0] !== B || valid.shape[1] !== T) {
    throw new SelectiveLossError("valid", `shape [${B}, ${T}] (like ce)`, `[${valid.shape}]`);
  }
  let ref: Float32Array;
  if (input.refLoss !== undefined) {
    ref = floats(input.refLoss, "refLoss");
  } else if (input.referenceModel) {
    if (!input.inputIds)
      throw new SelectiveLossError("inputIds", "the batch's ids with referenceModel", "none");
    ref = referenceLosses(input.referenceModel, input.inputIds, input.attentionMask);
  } else if (ratio === 1 || input.selected) {
    ref = new Float32Array(n);
  } else {
    throw new SelectiveLossError("refLoss", "reference losses or a referenceModel when ratio < 1", "neither");
  }
  if (ref.length !== n) throw new SelectiveLossError("refLoss", `${n} values (${B}×${T})`, `${ref.length}`);

  const ceData = input.ceValues ?? floats(ce, "ce");
  const validData = input.validValues ?? floats(valid, "valid");
  const excess = excessLoss({ rows: B, ce: ceData, ref, valid: validData });

  let selectedData = input.selected;
  if (selectedData) {
    if (selectedData.length !== n)
      throw new SelectiveLossError("selected", `${n} values`, `${selectedData.length}`);
  } else selectedData = selectTokens(excess, validData, B, T, ratio, scope);
  const stats = selectionStats(ceData, excess, validData, selectedData, input.histogram);
  const denominator = input.denominator ?? stats.nSelected;
  if (!(denominator > 0))
    throw new SelectiveLossError("denominator", "a positive count", String(denominator));

  const selected = tf.tensor2d(selectedData, [B, T], "float32");
  const loss = tf.tidy(() => tf.div(tf.sum(tf.mul(ce, selected)), tf.scalar(denominator)) as tf.Scalar);
  return { loss, selected, selectedValues: selectedData, stats };
}

export interface DeviceSelectiveLossInput {
  /** [B, T] per-token CE of the model being trained, differentiable; never read here. */
  ce: tf.Tensor2D;
  /** [B·T] per-token reference losses (host data); absent when `ratio` is 1 or `selected` is given. */
  refLoss?: Float32Array;
  /** [B·T] 0/1 host data: which tokens count. */
  valid: Float32Array;
  ratio: number;
  scope?: SelectionScope;
  /** A selection made over a larger batch this one is part of: skips the ranking. */
  selected?: Float32Array;
  /** Divide the selected CE sum by this (the whole batch's selected count; see `selectionDenominator`). */
  denominator: number;
}

/**
 * selectiveLoss without reading the device: the ranking runs on `ce` where it lies (selectTokensOnDevice, the same
 * mask bit for bit), so a backend without synchronous reads (WebGPU) forms the loss from one taped forward pass. The
 * mask carries no gradient. Returns the loss and the [B, T] mask (the caller disposes it); read `ce` and the mask
 * afterwards with `await data()` for selectionStats.
 */
export function selectiveLossOnDevice(input: DeviceSelectiveLossInput): {
  loss: tf.Scalar;
  selected: tf.Tensor2D;
} {
  const { ce, valid, ratio, denominator } = input;
  const scope = input.scope ?? "batch";
  checkRatio(ratio);
  if (ce.rank !== 2) throw new SelectiveLossError("ce", "a [B, T] tensor", `rank ${ce.rank}`);
  const [B, T] = ce.shape;
  const n = B * T;
  if (valid.length !== n) throw new SelectiveLossError("valid", `${n} values (${B}×${T})`, `${valid.length}`);
  if (!(denominator > 0))
    throw new SelectiveLossError("denominator", "a positive count", String(denominator));
  let selected: tf.Tensor2D;
  if (input.selected) {
    if (input.selected.length !== n)
      throw new SelectiveLossError("selected", `${n} values`, `${input.selected.length}`);
    selected = tf.tensor2d(input.selected, [B, T], "float32");
  } else {
    const ref = input.refLoss;
    if (ref === undefined && ratio < 1)
      throw new SelectiveLossError("refLoss", "reference losses when ratio < 1", "none");
    if (ref !== undefined && ref.length !== n)
      throw new SelectiveLossError("refLoss", `${n} values (${B}×${T})`, `${ref.length}`);
    // A custom gradient of zero: comparisons have no gradient, and none should flow through the selection.
    const rank = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      return {
        value: tf.tidy(() => {
          const excess = ref ? tf.sub(x, tf.tensor2d(ref, [B, T], "float32")) : x;
          return selectTokensOnDevice(excess, valid, B, T, ratio, scope);
        }),
        gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
      };
    });
    selected = rank(ce) as tf.Tensor2D;
  }
  const loss = tf.tidy(() => tf.div(tf.sum(tf.mul(ce, selected)), tf.scalar(denominator)) as tf.Scalar);
  return { loss, selected };
}
