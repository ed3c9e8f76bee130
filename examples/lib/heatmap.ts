/**
 * Heat-map documents for @rho1/report from scored sequences: `rho1 report`'s heatmapDocs with a title per row. Each
 * token is coloured by excess loss (model loss − reference loss), the tokens Selective Language Modeling would keep
 * at `ratio` marked — ranked over all shown sequences together, exactly as a training batch is. Token j ≥ 1 carries
 * the numbers of predicting it (position j − 1); token 0 has none.
 */
import { heatmapDocs, type ReportDoc } from "rho1";

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
): ReportDoc[] {
  rows.forEach((r, b) => {
    if (modelLoss[b].length < r.ids.length - 1)
      throw new RangeError(`${r.title}: ${modelLoss[b].length} losses for ${r.ids.length} tokens`);
  });
  const docs = heatmapDocs(
    rows.map((r, index) => ({ ...r, index })),
    modelLoss,
    piece,
    ratio,
    "batch",
  );
  return docs.map((doc, b) => ({ ...doc, title: rows[b].title }));
}
