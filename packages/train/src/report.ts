import { existsSync, readFileSync } from "node:fs";
import { parseJsonLines, writeFileAtomic } from "@rho1/io";
import { lossCurvesPage } from "@rho1/report";

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

/**
 * A self-contained HTML page (inline SVG, no scripts or CDN) with the loss of all, selected and unselected tokens
 * per step: the paper's Fig. 6 for this run, drawn by @rho1/report.
 */
export function lossCurvesHtml(metrics: StepMetrics[], title: string): string {
  // Plain causal-LM runs have one curve: no selection fields.
  const slm = metrics.some((m) => m.loss_selected !== undefined);
  const series = (
    [
      { key: "loss", name: "all tokens" },
      { key: "loss_selected", name: "selected tokens" },
      { key: "loss_unselected", name: "unselected tokens", dashed: true },
    ] as const
  ).filter((s) => slm || s.key === "loss");
  const last = metrics.at(-1);
  const subtitle = last
    ? `step ${last.step}: loss ${last.loss.toFixed(4)}${last.loss_selected === undefined ? `; ${last.tokens} tokens` : `, selected ${last.loss_selected.toFixed(4)}${typeof last.loss_unselected === "number" ? `, unselected ${last.loss_unselected.toFixed(4)}` : ""}; ${last.selected_tokens} selected of ${last.tokens} tokens`}`
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
