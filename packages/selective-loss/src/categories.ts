/**
 * The Rho-1 paper's token categories (Fig. 3, App. B.1): how each token's loss moves over training checkpoints.
 * Fit a least-squares line to the token's losses over the checkpoints; ΔL = line(end) − line(start).
 *   ΔL < −threshold → "H→L" (learned), ΔL > threshold → "L→H" (forgotten), otherwise the loss barely moved:
 *   "L→L" if the token's loss at the last checkpoint ≤ the mean loss of all tokens at the last checkpoint,
 *   else "H→H". Paper threshold 0.2; paper shares H→H 11%, L→H 12%, H→L 26%, L→L 51%.
 * "Last loss" is read as the measured loss at the last checkpoint (the facts sheet's wording), not the fitted end.
 */
export type TokenCategory = "H→H" | "L→H" | "H→L" | "L→L";
export const CATEGORIES: readonly TokenCategory[] = ["H→H", "L→H", "H→L", "L→L"];

export interface CategoryResult {
  /** Category per token; null where a loss is not finite (token skipped). */
  categories: (TokenCategory | null)[];
  counts: Record<TokenCategory, number>;
  /** counts / number of categorised tokens (0 when there are none). */
  shares: Record<TokenCategory, number>;
  /** Fitted ΔL per token (NaN where skipped). */
  delta: Float64Array;
  /** Mean last-checkpoint loss over categorised tokens (the H/L split for stable tokens). */
  meanLast: number;
}

/**
 * `losses[c][i]` = loss of token i at checkpoint c (at least two checkpoints, all of one length); `x[c]` = the
 * checkpoint's position (e.g. tokens trained; default c). ΔL does not depend on x's unit, only its spacing.
 */
export function tokenCategories(
  losses: readonly ArrayLike<number>[],
  opts: { x?: readonly number[]; threshold?: number } = {},
): CategoryResult {
  const C = losses.length;
  if (C < 2) throw new RangeError(`losses: expected at least 2 checkpoints, found ${C}`);
  const N = losses[0].length;
  losses.forEach((l, c) => {
    if (l.length !== N)
      throw new RangeError(`losses[${c}]: expected ${N} tokens (as checkpoint 0), found ${l.length}`);
  });
  const x = opts.x ?? Array.from({ length: C }, (_, c) => c);
  if (x.length !== C)
    throw new RangeError(`x: expected ${C} positions (one per checkpoint), found ${x.length}`);
  const threshold = opts.threshold ?? 0.2;
  const xMean = x.reduce((s, v) => s + v, 0) / C;
  const sxx = x.reduce((s, v) => s + (v - xMean) ** 2, 0);
  if (!(sxx > 0)) throw new RangeError("x: checkpoint positions must not all be equal");
  const span = x[C - 1] - x[0];

  const delta = new Float64Array(N).fill(Number.NaN);
  const ok = new Uint8Array(N);
  let lastSum = 0;
  let n = 0;
  for (let i = 0; i < N; i++) {
    let yMean = 0;
    let finite = true;
    for (let c = 0; c < C; c++) {
      const y = losses[c][i];
      if (!Number.isFinite(y)) finite = false;
      yMean += y;
    }
    if (!finite) continue;
    yMean /= C;
    let sxy = 0;
    for (let c = 0; c < C; c++) sxy += (x[c] - xMean) * (losses[c][i] - yMean);
    delta[i] = (sxy / sxx) * span; // slope × (x_end − x_start)
    ok[i] = 1;
    lastSum += losses[C - 1][i];
    n++;
  }
  const meanLast = n ? lastSum / n : Number.NaN;
  const counts: Record<TokenCategory, number> = { "H→H": 0, "L→H": 0, "H→L": 0, "L→L": 0 };
  const categories: (TokenCategory | null)[] = new Array(N).fill(null);
  for (let i = 0; i < N; i++) {
    if (!ok[i]) continue;
    const d = delta[i];
    const cat: TokenCategory =
      d < -threshold ? "H→L" : d > threshold ? "L→H" : losses[C - 1][i] <= meanLast ? "L→L" : "H→H";
    categories[i] = cat;
    counts[cat]++;
  }
  const shares = Object.fromEntries(CATEGORIES.map((k) => [k, n ? counts[k] / n : 0])) as Record<
    TokenCategory,
    number
  >;
  return { categories, counts, shares, delta, meanLast };
}
