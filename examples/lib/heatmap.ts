/**
 * Heat-map documents for @rho1/report from scored sequences: each token coloured by excess loss (model loss −
 * reference loss), the tokens Selective Language Modeling would keep at `ratio` marked — ranked over all shown
 * sequences together with @rho1/selective-loss's selectTokens, exactly as a training batch is. Token j ≥ 1 carries
 * the numbers of predicting it (position j − 1); token 0 has none.
 */
import type { HeatmapDoc } from "@rho1/report";
import { selectTokens } from "@rho1/selective-loss";

export interface ScoredRow {
  title: string;
  ids: ArrayLike<number>;
  /** [T−1] reference loss of predicting ids[t+1]. */
  refLoss: ArrayLike<number>;
  /** [T−1] 1 where the target is a real token. */
  valid: ArrayLike<number>;
}

export function selectionHeatmap(
  rows: ScoredRow[],
  modelLoss: ArrayLike<number>[],
  piece: (id: number) => string,
  ratio: number,
): HeatmapDoc[] {
  if (rows.length === 0) return [];
  const time = Math.max(...rows.map((r) => r.ids.length - 1));
  const excess = new Float32Array(rows.length * time);
  const valid = new Float32Array(rows.length * time);
  rows.forEach((r, b) => {
    if (modelLoss[b].length < r.ids.length - 1)
      throw new RangeError(`${r.title}: ${modelLoss[b].length} losses for ${r.ids.length} tokens`);
    for (let t = 0; t < r.ids.length - 1; t++) {
      if (!r.valid[t]) continue;
      excess[b * time + t] = modelLoss[b][t] - r.refLoss[t];
      valid[b * time + t] = 1;
    }
  });
  const selected = selectTokens(excess, valid, rows.length, time, ratio, "batch");
  return rows.map((r, b) => {
    // Show through the last real token (padding dropped).
    let n = r.ids.length;
    while (n > 1 && !r.valid[n - 2]) n--;
    const tokens: string[] = [];
    const ex: number[] = [];
    const sel: boolean[] = [];
    const loss: number[] = [];
    const ref: number[] = [];
    for (let j = 0; j < n; j++) {
      tokens.push(piece(r.ids[j]));
      const k = b * time + j - 1;
      const ok = j > 0 && valid[k] === 1;
      ex.push(ok ? excess[k] : Number.NaN);
      sel.push(ok && selected[k] === 1);
      loss.push(ok ? modelLoss[b][j - 1] : Number.NaN);
      ref.push(ok ? r.refLoss[j - 1] : Number.NaN);
    }
    return { title: r.title, tokens, excess: ex, selected: sel, loss, refLoss: ref };
  });
}
