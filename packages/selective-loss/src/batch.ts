/**
 * Selection over a whole optimizer batch that arrives in parts (micro-batches, or the rows of a report): validity
 * of causal-LM targets, the batch's selected count (the loss denominator), and the ranking of all parts together,
 * so N micro-batches select exactly the tokens one batch N times larger would. Plain data, no tensors.
 */
import { SelectiveLossError } from "./errors.ts";
import { checkRatio, type SelectionScope, selectionCount, selectTokens } from "./select.ts";

/** One part of a batch: `rows` rows of `time` loss positions each, flattened row-major. */
export interface LossPart {
  rows: number;
  /** [rows·time] the model's per-token loss (no gradient). */
  ce: ArrayLike<number>;
  /** [rows·time] the reference's per-token loss; absent when there is none (ratio 1: nothing to rank). */
  ref?: ArrayLike<number>;
  /** [rows·time] 0/1: which positions are real targets. */
  valid: ArrayLike<number>;
}

/**
 * Validity of causal-LM targets: position t (predicting token t+1) counts when both tokens are real
 * (mask[t]·mask[t+1]) and, if given, `extra[t]` (e.g. a score store's validity). mask: [rows·time] (default all
 * ones, packed sequences); extra: [rows·(time−1)]. Returns [rows·(time−1)].
 */
export function targetValidity(
  rows: number,
  time: number,
  mask?: ArrayLike<number>,
  extra?: ArrayLike<number>,
): Float32Array {
  const L = time - 1;
  const out = new Float32Array(rows * L);
  for (let b = 0; b < rows; b++) {
    for (let t = 0; t < L; t++) {
      const m = mask ? (mask[b * time + t] as number) * (mask[b * time + t + 1] as number) : 1;
      out[b * L + t] = m * (extra ? (extra[b * L + t] as number) : 1);
    }
  }
  return out;
}

/** ce − ref where valid, 0 elsewhere (ref 0 when absent). */
export function excessLoss(part: LossPart): Float32Array {
  const { ce, ref, valid } = part;
  const out = new Float32Array(valid.length);
  for (let i = 0; i < out.length; i++)
    out[i] = valid[i] !== 0 ? (ce[i] as number) - (ref ? (ref[i] as number) : 0) : 0;
  return out;
}

/**
 * The whole batch's selected count, from validity alone (so it is known before any forward pass): with scope
 * "batch" max(1, floor(ratio · n_valid)) over all parts, with "sequence" the sum of each row's count. It is the
 * denominator of the loss, so that micro-batches add up to the loss of the whole batch.
 */
export function selectionDenominator(
  parts: { rows: number; valid: ArrayLike<number> }[],
  time: number,
  ratio: number,
  scope: SelectionScope,
): number {
  checkRatio(ratio);
  let total = 0;
  let nValidAll = 0;
  for (const { rows, valid } of parts) {
    for (let b = 0; b < rows; b++) {
      let n = 0;
      for (let t = 0; t < time; t++) n += valid[b * time + t] !== 0 ? 1 : 0;
      nValidAll += n;
      total += selectionCount(ratio, n);
    }
  }
  return scope === "batch" ? selectionCount(ratio, nValidAll) : total;
}

/**
 * Ranks the valid tokens of all parts together, as one batch of their rows (scope "batch": one ranking over every
 * token; "sequence": each row alone), and returns each part's excess and 0/1 selection.
 */
export function selectParts(
  parts: LossPart[],
  time: number,
  ratio: number,
  scope: SelectionScope,
): { excess: Float32Array[]; selected: Float32Array[] } {
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const excess = parts.map(excessLoss);
  const excessAll = new Float32Array(rows * time);
  const validAll = new Float32Array(rows * time);
  let offset = 0;
  for (const [i, part] of parts.entries()) {
    if (part.valid.length !== part.rows * time || part.ce.length !== part.rows * time)
      throw new SelectiveLossError(`part ${i}`, `${part.rows}×${time} values`, `${part.ce.length}`);
    if (part.ref && part.ref.length !== part.valid.length)
      throw new SelectiveLossError(`part ${i} ref`, `${part.valid.length} values`, `${part.ref.length}`);
    excessAll.set(excess[i] as Float32Array, offset);
    validAll.set(part.valid, offset);
    offset += part.valid.length;
  }
  const all = selectTokens(excessAll, validAll, rows, time, ratio, scope);
  const selected: Float32Array[] = [];
  offset = 0;
  for (const part of parts) {
    selected.push(all.slice(offset, offset + part.valid.length));
    offset += part.valid.length;
  }
  return { excess, selected };
}

/**
 * Selection over sequences of different lengths (the rows a report shows), ranked together like one training batch
 * ("batch") or each alone ("sequence"): each row's excess and 0/1 selection, as long as the row.
 */
export function selectSequences(
  rows: { ce: ArrayLike<number>; ref: ArrayLike<number>; valid: ArrayLike<number> }[],
  ratio: number,
  scope: SelectionScope,
): { excess: Float32Array[]; selected: Float32Array[] } {
  const time = Math.max(1, ...rows.map((r) => r.valid.length));
  const pad = (values: ArrayLike<number>) => {
    const out = new Float32Array(time);
    out.set(Array.from(values));
    return out;
  };
  const parts = rows.map((r) => ({ rows: 1, ce: pad(r.ce), ref: pad(r.ref), valid: pad(r.valid) }));
  const { excess, selected } = selectParts(parts, time, ratio, scope);
  return {
    excess: excess.map((e, b) => e.slice(0, rows[b]?.valid.length)),
    selected: selected.map((s, b) => s.slice(0, rows[b]?.valid.length)),
  };
}
