import { existsSync, readFileSync } from "node:fs";
import { parseJsonLines, writeFileAtomic } from "@rho1/io";
import { type Chart, lossCurvesPage, type Series } from "@rho1/report";

/** A training line of metrics.jsonl: one per optimizer step. */
export interface StepMetrics {
  step: number;
  /** Fractional epoch after this step: sequences consumed / sequences in the corpus. */
  epoch?: number;
  lr: number;
  /** Mean CE over all valid tokens of the batch. */
  loss: number;
  /** Mean CE over selected tokens (the objective). Only in SLM runs: in plain causal LM it is `loss`. */
  loss_selected?: number;
  /** Mean CE over unselected valid tokens (SLM runs only). */
  loss_unselected?: number | null;
  /** Valid tokens trained on so far (cumulative). */
  tokens: number;
  /** Selected tokens so far (cumulative): the paper's "train tokens". SLM runs only. */
  selected_tokens?: number;
  tokens_per_s: number;
  /** Global gradient norm before clipping. */
  grad_norm: number;
  /** Mean excess loss (model CE − reference CE) over the batch's valid tokens; only in runs with a reference. */
  excess_loss?: number | null;
}

/** An evaluation line of metrics.jsonl (--eval-data): the held-out loss after `step`. */
export interface EvalMetrics {
  step: number;
  epoch?: number;
  /** Mean CE over every valid token of the held-out set. */
  eval_loss: number;
  eval_tokens: number;
  eval_seconds: number;
}

export type MetricsLine = StepMetrics | EvalMetrics;

export const isEvalLine = (m: MetricsLine): m is EvalMetrics => "eval_loss" in m;

/** The lines of a metrics.jsonl; a malformed line names the file and line. */
export function readMetricsLines(path: string): MetricsLine[] {
  if (!existsSync(path)) return [];
  return [...parseJsonLines(readFileSync(path, "utf8"), path)].map((record) => record.value as MetricsLine);
}

/** metrics.csv (--report-to csv): one row per line of metrics.jsonl, every column that any line has. */
export function writeMetricsCsv(path: string, lines: MetricsLine[]): void {
  const columns: string[] = [];
  for (const line of lines)
    for (const key of Object.keys(line)) if (!columns.includes(key)) columns.push(key);
  const cell = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const rows = lines.map((line) =>
    columns.map((c) => cell((line as unknown as Record<string, unknown>)[c])).join(","),
  );
  writeFileAtomic(path, `${[columns.join(","), ...rows].join("\n")}\n`);
}

/** Trailing moving average over `window` points (shorter at the start), skipping missing values. */
function smooth(values: (number | null | undefined)[], window: number): number[] {
  return values.map((_, i) => {
    let sum = 0;
    let n = 0;
    for (let j = Math.max(0, i - window + 1); j <= i; j++) {
      const v = values[j];
      if (typeof v === "number" && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    return n ? sum / n : Number.NaN;
  });
}

/**
 * A self-contained HTML page (inline SVG, no scripts or CDN) drawn by @rho1/report: the loss of all, selected and
 * unselected tokens per step (smoothed, with the raw all-token loss behind; the paper's Fig. 6 for this run) and the
 * held-out eval_loss, then the learning rate, the gradient norm and the throughput.
 */
export function lossCurvesHtml(lines: MetricsLine[], title: string): string {
  const metrics = lines.filter((m): m is StepMetrics => !isEvalLine(m));
  const evals = lines.filter(isEvalLine);
  // Plain causal-LM runs have one training curve: no selection fields.
  const slm = metrics.some((m) => m.loss_selected !== undefined);
  const window = Math.max(1, Math.round(metrics.length / 25));
  const steps = metrics.map((m) => m.step);
  const curve = (values: (number | null | undefined)[]): [number, number][] =>
    smooth(values, window).map((y, i) => [steps[i] as number, y]);
  const raw = (pick: (m: StepMetrics) => number): [number, number][] => metrics.map((m) => [m.step, pick(m)]);
  const lossSeries: Series[] = [
    { name: "all tokens (raw)", color: "#c8c8c8", points: raw((m) => m.loss) },
    { name: "all tokens", points: curve(metrics.map((m) => m.loss)) },
  ];
  if (slm) {
    lossSeries.push({ name: "selected tokens", points: curve(metrics.map((m) => m.loss_selected)) });
    lossSeries.push({
      name: "unselected tokens",
      dashed: true,
      points: curve(metrics.map((m) => m.loss_unselected)),
    });
  }
  if (evals.length)
    lossSeries.push({ name: "held-out (eval_loss)", points: evals.map((e) => [e.step, e.eval_loss]) });
  const last = metrics.at(-1);
  const lastEval = evals.at(-1);
  const subtitle = last
    ? `step ${last.step}: loss ${last.loss.toFixed(4)}${last.loss_selected === undefined ? `; ${last.tokens} tokens` : `, selected ${last.loss_selected.toFixed(4)}${typeof last.loss_unselected === "number" ? `, unselected ${last.loss_unselected.toFixed(4)}` : ""}; ${last.selected_tokens} selected of ${last.tokens} tokens`}${lastEval ? `; eval_loss ${lastEval.eval_loss.toFixed(4)} at step ${lastEval.step}` : ""}`
    : "no steps yet";
  const chart = (chartTitle: string, yLabel: string, series: Series[], caption?: string): Chart => ({
    title: chartTitle,
    series,
    xLabel: "step",
    yLabel,
    caption,
  });
  return lossCurvesPage(
    [
      chart(
        "Loss",
        "loss (nats/token)",
        lossSeries,
        `Moving average over ${window} step${window === 1 ? "" : "s"}; the raw all-token loss in grey.`,
      ),
      chart("Learning rate", "learning rate", [{ name: "lr", points: raw((m) => m.lr) }]),
      chart("Gradient norm", "global norm before clipping", [
        { name: "grad norm (raw)", color: "#c8c8c8", points: raw((m) => m.grad_norm) },
        { name: "grad norm", points: curve(metrics.map((m) => m.grad_norm)) },
      ]),
      chart("Throughput", "tokens/s", [
        { name: "tokens/s", points: curve(metrics.map((m) => m.tokens_per_s)) },
      ]),
    ],
    { title, subtitle },
  );
}

export function writeLossCurves(path: string, metrics: MetricsLine[], title: string): void {
  writeFileAtomic(path, lossCurvesHtml(metrics, title));
}
