import type { Communicator } from "@rho1/distributed";
import {
  combineStats,
  excessLoss,
  type LossPart,
  type ReferenceModel,
  referenceLossesAsync,
  type SelectionScope,
  type SelectionStats,
  selectionCount,
  selectionDenominator,
  selectionStats,
  selectiveLoss,
  selectiveLossOnDevice,
  selectParts,
  targetValidity,
} from "@rho1/selective-loss";
import { canReadSync } from "@rho1/transformer";
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
  /**
   * Data-parallel group: this process holds its rank's slice of the optimizer batch (every rank the same number and
   * shape of micro-batches, rank order = batch order). Selection, the loss normalisation, the statistics and the
   * gradients then cover the whole batch, exactly as if one process held all of it. Default: one process.
   */
  communicator?: Communicator;
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

/**
 * The whole group's selected count: the valid-token count (scope "batch") or the per-row counts (scope "sequence")
 * summed over ranks; also checks that every rank holds as many rows as this one (the gathers below rely on it).
 */
function groupDenominator(
  group: Communicator,
  parts: { rows: number; valid: Float32Array }[],
  time: number,
  ratio: number,
  scope: SelectionScope,
): number {
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  let nValid = 0;
  for (const p of parts) for (const v of p.valid) nValid += v !== 0 ? 1 : 0;
  const counts = Float64Array.from([
    nValid,
    selectionDenominator(parts, time, ratio, "sequence"),
    rows,
    rows * rows,
  ]);
  group.allReduceSum(counts);
  // The sums of rows and of squared rows are ranks × ours and ranks × ours² only when every rank has ours.
  if (counts[2] !== group.size * rows || counts[3] !== group.size * rows * rows) {
    throw new TrainError(
      `rank ${group.rank}: ${rows} rows this step, but the ${group.size} ranks hold ${counts[2]} in all; every rank needs the same micro-batches`,
      "bad_batch",
    );
  }
  return scope === "batch" ? selectionCount(ratio, counts[0] as number) : (counts[1] as number);
}

/**
 * Batch-scope selection over the whole group: every rank gathers all ranks' excess losses and validity (rank order is
 * batch order, so ties go to the lower global token index as in one process), ranks them all, keeps its own parts.
 */
function groupSelection(group: Communicator, parts: LossPart[], time: number, ratio: number): Float32Array[] {
  const size = parts.reduce((s, p) => s + p.valid.length, 0);
  const block = new Float32Array(2 * size);
  let offset = 0;
  for (const part of parts) {
    block.set(excessLoss(part), offset);
    block.set(part.valid, size + offset);
    offset += part.valid.length;
  }
  const gathered = group.allGather(block);
  const all: LossPart[] = [];
  for (let r = 0; r < group.size; r++) {
    let at = r * 2 * size;
    for (const part of parts) {
      const n = part.valid.length;
      // The excess stands in for ce with no reference: excessLoss then gives it back unchanged.
      all.push({
        rows: part.rows,
        ce: gathered.subarray(at, at + n),
        valid: gathered.subarray(at + size, at + size + n),
      });
      at += n;
    }
  }
  const { selected } = selectParts(all, time, ratio, "batch");
  return selected.slice(group.rank * parts.length, (group.rank + 1) * parts.length);
}

const STAT_FIELDS = 6;
const statFields = (s: SelectionStats) => [
  s.nValid,
  s.nSelected,
  s.meanCeSelected,
  s.meanCeUnselected,
  s.meanExcess,
  s.meanExcessSelected,
];
const statsFrom = (f: number[]): SelectionStats => ({
  nValid: f[0] as number,
  nSelected: f[1] as number,
  selectedFraction: (f[0] as number) ? (f[1] as number) / (f[0] as number) : 0,
  meanCeSelected: f[2] as number,
  meanCeUnselected: f[3] as number,
  meanExcess: f[4] as number,
  meanExcessSelected: f[5] as number,
  histogram: { edges: [], counts: [] },
});

/** Every rank's equally long float64 block, concatenated in rank order: each rank fills its own slot of a zeroed
 *  buffer and one sum all-reduce fills the rest (x + 0 is exact, so nothing is rounded; NaN stays NaN). */
function gatherInOrder(group: Communicator, mine: number[]): number[] {
  const buffer = new Float64Array(group.size * mine.length);
  buffer.set(mine, group.rank * mine.length);
  group.allReduceSum(buffer);
  return Array.from(buffer);
}

/**
 * Sums the gradients over all ranks with one all-reduce: every gradient is copied into one buffer (variables in
 * the model's order, the same on every rank), summed in place, and copied back into fresh tensors.
 */
async function allReduceGradients(
  group: Communicator,
  grads: Map<string, tf.Tensor>,
  variables: Map<string, tf.Variable>,
): Promise<void> {
  let total = 0;
  for (const key of variables.keys()) total += grads.get(key)?.size ?? 0;
  const fused = new Float32Array(total);
  let offset = 0;
  for (const key of variables.keys()) {
    const g = grads.get(key);
    if (!g) continue;
    fused.set((await g.data()) as Float32Array, offset);
    offset += g.size;
  }
  group.allReduceSum(fused);
  offset = 0;
  for (const key of variables.keys()) {
    const g = grads.get(key);
    if (!g) continue;
    grads.set(key, tf.tensor(fused.slice(offset, offset + g.size), g.shape, "float32"));
    offset += g.size;
    g.dispose();
  }
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
 *
 * Every read of the device is an `await data()`, so this runs on every backend, WebGPU included. A host backend (cpu,
 * wasm, tfjs-node) hands the taped CE to the host selection at no cost; a backend that cannot read synchronously (a
 * GPU) ranks the taped CE where it lies (selectiveLossOnDevice: the same mask bit for bit) and the statistics read CE
 * and mask once the tape is done. Either way one taped forward pass per micro-batch, plus the scoring pass above when
 * the ranking spans micro-batches.
 */
export async function batchGradients(
  model: TrainableModel,
  microBatches: MicroBatch[],
  opts: SelectionOptions,
): Promise<BatchGradients> {
  const { ratio, referenceModel, communicator: comm } = opts;
  const scope = opts.scope ?? "batch";
  const group = comm && comm.size > 1 ? comm : null;
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
    const refs: (Float32Array | undefined)[] = [];
    for (const [i, mb] of microBatches.entries()) {
      const t = tensors[i] as (typeof tensors)[number];
      if (mb.refLoss || ratio === 1) refs.push(mb.refLoss);
      else if (referenceModel) refs.push(await referenceLossesAsync(referenceModel, t.ids, t.mask));
      else
        throw new TrainError(
          `micro-batch ${i}: ratio ${ratio} < 1 needs reference losses or a reference model`,
          "no_reference",
        );
    }
    const parts = microBatches.map((mb, i) => ({ rows: mb.batch, valid: valids[i] as Float32Array }));
    const denominator = group
      ? groupDenominator(group, parts, L, ratio, scope)
      : selectionDenominator(parts, L, ratio, scope);
    if (denominator === 0) throw new TrainError("batch has no valid token to train on", "empty_batch");

    // Batch-wide ranking across micro-batches needs every micro-batch's CE before any tape.
    const batchWide = scope === "batch" && ratio < 1 && (microBatches.length > 1 || group !== null);
    const onDevice = !canReadSync();
    let scored: Float32Array[] | undefined;
    if (batchWide) {
      scored = [];
      for (const t of tensors) scored.push(await referenceLossesAsync(model, t.ids, t.mask));
    }
    let batchSelection: Float32Array[] | undefined;
    if (batchWide) {
      const withCe = parts.map((part, i) => ({ ...part, ce: scored?.[i] as Float32Array, ref: refs[i] }));
      batchSelection = group
        ? groupSelection(group, withCe, L, ratio)
        : selectParts(withCe, L, ratio, "batch").selected;
    }

    const varNames = new Map<string, string>();
    for (const [key, v] of model.variables) varNames.set(v.name, key);
    const varList = [...model.variables.values()];
    const grads = new Map<string, tf.Tensor>();
    const selected: Float32Array[] = [];
    const tokenLoss: Float32Array[] = [];
    let loss = 0;
    const microStats: SelectionStats[] = [];
    const microLosses: number[] = [];
    for (const [i, mb] of microBatches.entries()) {
      const t = tensors[i] as (typeof tensors)[number];
      let result: Pick<ReturnType<typeof selectiveLoss>, "selectedValues" | "stats"> | undefined;
      // The device path keeps its taped CE and mask past the tape, to read them for the statistics.
      const kept: { ce?: tf.Tensor; selected?: tf.Tensor } = {};
      let value: tf.Scalar;
      let g: tf.NamedTensorMap;
      try {
        ({ value, grads: g } = tf.variableGrads(() => {
          const { ce } = model.tokenLosses(t.ids, t.mask);
          if (onDevice) {
            const r = selectiveLossOnDevice({
              ce,
              valid: valids[i] as Float32Array,
              refLoss: refs[i],
              ratio,
              scope,
              selected: batchSelection?.[i],
              denominator,
            });
            kept.ce = tf.keep(ce);
            kept.selected = tf.keep(r.selected);
            return r.loss;
          }
          // Without a copy scored before the tape, the taped CE is read here, once.
          const ceValues = scored?.[i] ?? Float32Array.from(ce.dataSync() as Float32Array);
          tokenLoss.push(ceValues);
          const r = selectiveLoss({
            ce,
            valid: tf.tensor2d(valids[i] as Float32Array, [mb.batch, L], "float32"),
            ceValues,
            validValues: valids[i],
            refLoss: refs[i],
            ratio,
            scope,
            selected: batchSelection?.[i],
            denominator,
          });
          r.selected.dispose();
          result = r;
          return r.loss;
        }, varList));
        if (kept.ce && kept.selected) {
          const ceValues = scored?.[i] ?? Float32Array.from((await kept.ce.data()) as Float32Array);
          const selectedValues =
            batchSelection?.[i] ?? Float32Array.from((await kept.selected.data()) as Float32Array);
          tokenLoss.push(ceValues);
          const valid = valids[i] as Float32Array;
          const excess = excessLoss({ rows: mb.batch, ce: ceValues, ref: refs[i], valid });
          result = { selectedValues, stats: selectionStats(ceValues, excess, valid, selectedValues) };
        }
      } finally {
        kept.ce?.dispose();
        kept.selected?.dispose();
      }
      const microLoss = (await value.data())[0] as number;
      value.dispose();
      if (!Number.isFinite(microLoss)) {
        for (const x of Object.values(g)) x.dispose();
        throw new TrainError(
          `loss is ${microLoss} on micro-batch ${i}${mb.label ? ` (${mb.label})` : ""}`,
          "non_finite_loss",
        );
      }
      loss += microLoss;
      microLosses.push(microLoss);
      for (const [name, grad] of Object.entries(g)) {
        const key = varNames.get(name) ?? name;
        const prev = grads.get(key);
        if (prev) {
          grads.set(key, tf.add(prev, grad));
          prev.dispose();
          grad.dispose();
        } else grads.set(key, grad);
      }
      const r = result as NonNullable<typeof result>;
      selected.push(r.selectedValues); // this step's own array (selectTokens' or batchSelection's)
      microStats.push(r.stats);
    }
    let total: ReturnType<typeof combineStats>;
    if (group) {
      // Every micro-batch's loss and statistics, in batch order: the same sums in the same order as one process.
      const mine = microStats.flatMap((st, i) => [microLosses[i] as number, ...statFields(st)]);
      const all = gatherInOrder(group, mine);
      loss = 0;
      const stats: SelectionStats[] = [];
      for (let i = 0; i < all.length; i += 1 + STAT_FIELDS) {
        loss += all[i] as number;
        stats.push(statsFrom(all.slice(i + 1, i + 1 + STAT_FIELDS)));
      }
      total = combineStats(stats);
      await allReduceGradients(group, grads, model.variables);
    } else total = combineStats(microStats);
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
