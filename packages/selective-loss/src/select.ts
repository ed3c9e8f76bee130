import { SelectiveLossError } from "./errors.ts";

export type SelectionScope = "batch" | "sequence";

/** Number of tokens kept out of `nValid`: max(1, floor(ratio · nValid)), or 0 when there is nothing to select. */
export function selectionCount(ratio: number, nValid: number): number {
  if (nValid <= 0) return 0;
  // Exactly Python's max(1, int(ratio * n_valid)) in float64, so counts match the PyTorch reference bit for bit.
  return Math.max(1, Math.floor(ratio * nValid));
}

export function checkRatio(ratio: number): void {
  if (!(ratio > 0 && ratio <= 1)) throw new SelectiveLossError("ratio", "a number in (0, 1]", String(ratio));
}

/**
 * Indices of the `k` largest `excess` values among `candidates`, ties broken by the lower flat index (a total order,
 * so the result never depends on the sort implementation). NaN ranks above everything, as in torch.topk.
 */
function topK(excess: Float32Array, candidates: number[], k: number): number[] {
  if (k >= candidates.length) return candidates; // ratio 1 (plain causal LM): every candidate, no sort needed
  const key = (i: number) => {
    const x = excess[i] as number;
    return Number.isNaN(x) ? Number.POSITIVE_INFINITY : x;
  };
  candidates.sort((a, b) => key(b) - key(a) || a - b);
  return candidates.slice(0, k);
}

/**
 * The selection mask of Selective Language Modeling: among valid tokens (valid[i] = 1) keep the top `ratio` by excess
 * loss. scope "batch" ranks all tokens of the batch together (the paper; k = max(1, floor(ratio · n_valid)));
 * scope "sequence" ranks each row on its own (k_b = max(1, floor(ratio · n_valid_b))). Returns a 0/1 mask [batch·time].
 */
export function selectTokens(
  excess: Float32Array,
  valid: Float32Array,
  batch: number,
  time: number,
  ratio: number,
  scope: SelectionScope,
): Float32Array {
  checkRatio(ratio);
  const n = batch * time;
  if (excess.length !== n)
    throw new SelectiveLossError("excess", `length ${n} (${batch}×${time})`, `${excess.length}`);
  if (valid.length !== n)
    throw new SelectiveLossError("valid", `length ${n} (${batch}×${time})`, `${valid.length}`);
  if (scope !== "batch" && scope !== "sequence") {
    throw new SelectiveLossError("scope", '"batch" or "sequence"', JSON.stringify(scope));
  }
  const selected = new Float32Array(n);
  const rows =
    scope === "batch" ? [[0, n]] : Array.from({ length: batch }, (_, b) => [b * time, (b + 1) * time]);
  for (const [start, end] of rows as [number, number][]) {
    const candidates: number[] = [];
    for (let i = start; i < end; i++) if (valid[i] !== 0) candidates.push(i);
    for (const i of topK(excess, candidates, selectionCount(ratio, candidates.length))) selected[i] = 1;
  }
  return selected;
}
