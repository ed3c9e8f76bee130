import {
  combineStats,
  type ReferenceModel,
  referenceLosses,
  type SelectionScope,
  type SelectionStats,
  selectionDenominator,
  selectiveLoss,
  selectParts,
  targetValidity,
} from "@rho1/selective-loss";
import * as tf from "@tensorflow/tfjs-core";
import { TrainError } from "./errors.ts";

/** What training needs of a model: float32 variables and differentiable per-token losses (CausalLM has both). */
export interface TrainableModel {
  readonly variables: Map<string, tf.Variable>;
  tokenLosses(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): { ce: tf.Tensor2D; valid: tf.Tensor2D };
}

/** One micro-batch as plain data. */
export interface MicroBatch {
  batch: number;
  time: number;
  /** [batch·time] token ids. */
  ids: Int32Array;
  /** [batch·time] attention mask (1 = token, 0 = padding); default all ones (packed sequences). */
  mask?: Float32Array;
  /** [batch·(time−1)] reference loss of predicting ids[t+1] (precomputed scores). */
  refLoss?: Float32Array;
  /** [batch·(time−1)] extra 0/1 validity (e.g. the score store's), multiplied into mask[t]·mask[t+1]. */
  valid?: Float32Array;
  /** Names the batch in error messages (e.g. which sequences of the data it holds). */
  label?: string;
}

export interface SelectionOptions {
  /** Fraction of valid tokens trained on; 1 = plain causal LM. */
  ratio: number;
  scope?: SelectionScope;
  /** Scores batches that carry no refLoss. */
  referenceModel?: ReferenceModel;
}

/** Token counts and mean losses of one optimizer batch (all micro-batches). */
export interface BatchStats {
  nValid: number;
  nSelected: number;
  /** Mean CE over all valid tokens. */
  lossAll: number;
  /** Mean CE over selected tokens (the objective). */
  lossSelected: number;
  /** Mean CE over valid unselected tokens (NaN when none). */
  lossUnselected: number;
  /** Mean excess loss over valid tokens (NaN without references). */
  meanExcess: number;
}

export interface BatchGradients {
  /** Gradient of the objective per variable name (the caller disposes them). */
  grads: Map<string, tf.Tensor>;
  /** The objective: sum of selected CE over all micro-batches / number selected in the whole batch. */
  loss: number;
  stats: BatchStats;
  /** 0/1 selection per micro-batch, [batch·(time−1)]. */
  selected: Float32Array[];
  /** The model's CE per position before this update, per micro-batch, [batch·(time−1)] (invalid positions too). */
  tokenLoss: Float32Array[];
}

function checkMicroBatch(mb: MicroBatch, i: number, time: number): void {
  const where = `micro-batch ${i}${mb.label ? ` (${mb.label})` : ""}`;
  const n = mb.batch * mb.time;
  const m = mb.batch * (mb.time - 1);
  if (mb.time !== time)
    throw new TrainError(`${where}: ${mb.time} positions, expected ${time} like the first`, "bad_batch");
  if (mb.time < 2)
    throw new TrainError(`${where}: needs at least 2 positions, found ${mb.time}`, "bad_batch");
  if (mb.ids.length !== n)
    throw new TrainError(`${where}: ids has ${mb.ids.length} values, expected ${n}`, "bad_batch");
  if (mb.mask && mb.mask.length !== n)
    throw new TrainError(`${where}: mask has ${mb.mask.length} values, expected ${n}`, "bad_batch");
  for (const [field, arr] of [
    ["refLoss", mb.refLoss],
    ["valid", mb.valid],
  ] as const) {
    if (arr && arr.length !== m)
      throw new TrainError(`${where}: ${field} has ${arr.length} values, expected ${m}`, "bad_batch");
  }
}

/**
 * Gradients of the (selective) LM objective over an optimizer batch split into micro-batches, such that N micro-batches
 * give the same loss and gradients as one batch N times larger: the loss is normalised by the whole batch's selected
 * count, and with scope "batch" (and ratio < 1) tokens are ranked across all micro-batches, which costs one extra
 * forward pass per micro-batch to score them first. Scope "sequence" ranks rows independently and needs no extra pass.
 */
export function batchGradients(
  model: TrainableModel,
  microBatches: MicroBatch[],
  opts: SelectionOptions,
): BatchGradients {
  const { ratio, referenceModel } = opts;
  const scope = opts.scope ?? "batch";
  if (microBatches.length === 0) throw new TrainError("batchGradients: no micro-batches", "bad_batch");
  const time = (microBatches[0] as MicroBatch).time;
  for (const [i, mb] of microBatches.entries()) checkMicroBatch(mb, i, time);
  const L = time - 1;

  const tensors = microBatches.map((mb) => ({
    ids: tf.tensor2d(mb.ids, [mb.batch, mb.time], "int32"),
    mask: mb.mask ? tf.tensor2d(mb.mask, [mb.batch, mb.time], "float32") : undefined,
  }));
  try {
    const valids = microBatches.map((mb) => targetValidity(mb.batch, mb.time, mb.mask, mb.valid));
    const refs = microBatches.map((mb, i) => {
      if (mb.refLoss || ratio === 1) return mb.refLoss;
      const t = tensors[i] as (typeof tensors)[number];
      if (referenceModel) return referenceLosses(referenceModel, t.ids, t.mask);
      throw new TrainError(
        `micro-batch ${i}: ratio ${ratio} < 1 needs reference losses or a reference model`,
        "no_reference",
      );
    });
    const parts = microBatches.map((mb, i) => ({ rows: mb.batch, valid: valids[i] as Float32Array }));
    const denominator = selectionDenominator(parts, L, ratio, scope);
    if (denominator === 0) throw new TrainError("batch has no valid token to train on", "empty_batch");

    // Batch-wide ranking across micro-batches: score them all first (no tape), then select over all of them.
    let batchSelection: Float32Array[] | undefined;
    if (scope === "batch" && ratio < 1 && microBatches.length > 1) {
      const scored = parts.map((part, i) => {
        const t = tensors[i] as (typeof tensors)[number];
        const ce = tf.tidy(() => model.tokenLosses(t.ids, t.mask).ce);
        const data = Float32Array.from(ce.dataSync());
        ce.dispose();
        return { ...part, ce: data, ref: refs[i] };
      });
      batchSelection = selectParts(scored, L, ratio, "batch").selected;
    }

    const varNames = new Map<string, string>();
    for (const [key, v] of model.variables) varNames.set(v.name, key);
    const varList = [...model.variables.values()];
    const grads = new Map<string, tf.Tensor>();
    const selected: Float32Array[] = [];
    const tokenLoss: Float32Array[] = [];
    let loss = 0;
    const microStats: SelectionStats[] = [];
    microBatches.forEach((mb, i) => {
      const t = tensors[i] as (typeof tensors)[number];
      const validT = tf.tensor2d(valids[i] as Float32Array, [mb.batch, L], "float32");
      let microSelected: Float32Array | undefined;
      let stats: SelectionStats | undefined;
      const { value, grads: g } = tf.variableGrads(() => {
        const { ce } = model.tokenLosses(t.ids, t.mask);
        tokenLoss.push(Float32Array.from(ce.dataSync() as Float32Array));
        const r = selectiveLoss({
          ce,
          valid: validT,
          refLoss: refs[i],
          ratio,
          scope,
          selected: batchSelection?.[i],
          denominator,
        });
        microSelected = r.selected.dataSync() as Float32Array;
        r.selected.dispose();
        stats = r.stats;
        return r.loss;
      }, varList);
      validT.dispose();
      const microLoss = value.dataSync()[0] as number;
      value.dispose();
      if (!Number.isFinite(microLoss)) {
        for (const x of Object.values(g)) x.dispose();
        throw new TrainError(
          `loss is ${microLoss} on micro-batch ${i}${mb.label ? ` (${mb.label})` : ""}`,
          "non_finite_loss",
        );
      }
      loss += microLoss;
      for (const [name, grad] of Object.entries(g)) {
        const key = varNames.get(name) ?? name;
        const prev = grads.get(key);
        if (prev) {
          grads.set(key, tf.add(prev, grad));
          prev.dispose();
          grad.dispose();
        } else grads.set(key, grad);
      }
      selected.push(Float32Array.from(microSelected as Float32Array));
      microStats.push(stats as SelectionStats);
    });
    const total = combineStats(microStats);
    return {
      grads,
      loss,
      selected,
      tokenLoss,
      stats: {
        nValid: total.nValid,
        nSelected: total.nSelected,
        lossAll: total.meanCe,
        lossSelected: total.meanCeSelected,
        lossUnselected: total.meanCeUnselected,
        meanExcess: refs.some((r) => r !== undefined) ? total.meanExcess : Number.NaN,
      },
    };
  } finally {
    for (const t of tensors) {
      t.ids.dispose();
      t.mask?.dispose();
    }
  }
}
