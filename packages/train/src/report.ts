import { writeFileAtomic } from "@rho1/io";
import { lossCurvesPage } from "@rho1/report";

/** One line of metrics.jsonl. */
export interface StepMetrics {
  step: number;
  lr: number;
  /** Mean CE over all valid tokens of the batch. */
  loss: number;
  /** Mean CE over selected tokens (the objective; equals `loss` for plain causal LM). */
  loss_selected: number;
  /** Mean CE over unselected valid tokens (null when all are selected). */
  loss_unselected: number | null;
  /** Valid tokens trained on so far (cumulative). */
  tokens: number;
  /** Selected tokens so far (cumulative): the paper's "train tokens". */
  selected_tokens: number;
  tokens_per_s: number;
  /** Global gradient norm before clipping. */
  grad_norm: number;
  /** Mean excess loss (model CE − reference CE) over the batch's valid tokens; null without a reference. */
  excess_loss: number | null;
}

/**
 * A self-contained HTML page (inline SVG, no scripts or CDN) with the loss of all, selected and unselected tokens
 * per step: the paper's Fig. 6 for this run, drawn by @rho1/report.
 */
export function lossCurvesHtml(metrics: StepMetrics[], title: string): string {
  const series = [
    { key: "loss", name: "all tokens" },
    { key: "loss_selected", name: "selected tokens" },
    { key: "loss_unselected", name: "unselected tokens", dashed: true },
  ] as const;
  const last = metrics.at(-1);
  const subtitle = last
    ? `step ${last.step}: loss ${last.loss.toFixed(4)}, selected ${last.loss_selected.toFixed(4)}${last.loss_unselected === null ? "" : `, unselected ${last.loss_unselected.toFixed(4)}`}; ${last.selected_tokens} selected of ${last.tokens} tokens`
    : "no steps yet";
  return lossCurvesPage(
    [
      {
        series: series.map((s) => ({
          name: s.name,
          dashed: "dashed" in s ? s.dashed : undefined,
          points: metrics.map((m): [number, number] => [m.step, m[s.key] ?? Number.NaN]),
        })),
        xLabel: "step",
        yLabel: "loss (nats/token)",
      },
    ],
    { title, subtitle },
  );
}

export function writeLossCurves(path: string, metrics: StepMetrics[], title: string): void {
  writeFileAtomic(path, lossCurvesHtml(metrics, title));
}
