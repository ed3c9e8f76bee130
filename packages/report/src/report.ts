import { escapeHtml } from "./escape.ts";
import { formatNumber, formatSeconds } from "./format.ts";
import { type HeatmapDoc, type HeatmapOptions, tokenHeatmapHtml } from "./heatmap.ts";
import { pageHtml, type Table, tableHtml } from "./page.ts";
import { type CurvesOptions, lossCurvesSvg, type Series } from "./svg.ts";

export interface Highlight {
  label: string;
  value: string | number;
  /** Small text under the value, e.g. "−0.19 vs CLM". */
  sub?: string;
}

export interface Stage {
  name: string;
  seconds: number;
  /** e.g. "reused from the previous run". */
  note?: string;
}

export interface Chart extends CurvesOptions {
  series: Series[];
  caption?: string;
}

export interface ReportInput {
  title: string;
  /** One line under the title (run date, command, machine): the builder adds no clock of its own. */
  subtitle?: string;
  /** Plain-text paragraph(s) explaining the run. */
  intro?: string;
  /** Headline numbers as cards. */
  highlights?: Highlight[];
  /** e.g. columns ["", "CLM", "SLM"], rows [["held-out loss", 2.31, 2.12], ["tokens trained", ...]], best ["min"]. */
  summary?: Table;
  /** Time per stage, drawn as a table with proportional bars. */
  stages?: Stage[];
  /** Loss curves (all / selected / unselected tokens, held-out loss, ...). */
  curves?: Chart[];
  /** Token heat-map of sample documents. */
  heatmap?: { docs: HeatmapDoc[]; options?: HeatmapOptions; intro?: string };
  /** Evaluation table (e.g. accuracy per benchmark for base / CLM / SLM). */
  evalTable?: Table;
  /** Extra notes (plain text), one paragraph each. */
  notes?: string[];
  footer?: string;
}

function card(title: string, body: string, cls = ""): string {
  return `<section class="card${cls ? ` ${cls}` : ""}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function stagesHtml(stages: Stage[]): string {
  const total = stages.reduce((s, x) => s + (Number.isFinite(x.seconds) ? x.seconds : 0), 0);
  const max = Math.max(1e-9, ...stages.map((s) => (Number.isFinite(s.seconds) ? s.seconds : 0)));
  const rows = stages.map((s) => {
    const w = Number.isFinite(s.seconds) ? Math.max(1, Math.round((s.seconds / max) * 220)) : 0;
    return `<tr><th>${escapeHtml(s.name)}</th><td><span class="bar" style="width:${w}px"></span>${escapeHtml(formatSeconds(s.seconds))}</td><td>${escapeHtml(s.note ?? "")}</td></tr>`;
  });
  rows.push(`<tr><th>total</th><td>${escapeHtml(formatSeconds(total))}</td><td></td></tr>`);
  return `<table class="data stages"><thead><tr><th>stage</th><th>time</th><th>note</th></tr></thead><tbody>
${rows.join("\n")}
</tbody></table>`;
}

/**
 * The demo's report.html: headline numbers, the CLM-vs-SLM summary table, time per stage, loss curves, the token
 * heat-map and the evaluation table. Every part is optional; the page is self-contained (inline CSS and SVG).
 */
export function reportHtml(input: ReportInput): string {
  const parts: string[] = [];
  if (input.intro) parts.push(`<p class="note">${escapeHtml(input.intro)}</p>`);
  if (input.highlights?.length) {
    parts.push(
      `<div class="highlights">${input.highlights
        .map(
          (h) =>
            `<div class="highlight"><div class="label">${escapeHtml(h.label)}</div><div class="value">${escapeHtml(typeof h.value === "number" ? formatNumber(h.value) : h.value)}</div>${h.sub ? `<div class="sub">${escapeHtml(h.sub)}</div>` : ""}</div>`,
        )
        .join("")}</div>`,
    );
  }
  if (input.summary) parts.push(card("Summary", tableHtml(input.summary), "summary"));
  if (input.stages?.length) parts.push(card("Time per stage", stagesHtml(input.stages), "stages"));
  if (input.curves?.length) {
    const figures = input.curves.map(
      (c) =>
        `<figure class="chart">${lossCurvesSvg(c.series, c)}${c.caption ? `<figcaption>${escapeHtml(c.caption)}</figcaption>` : ""}</figure>`,
    );
    parts.push(card("Loss curves", `<div class="charts">${figures.join("")}</div>`, "curves"));
  }
  if (input.heatmap) {
    const intro =
      input.heatmap.intro ??
      "Each token is coloured by its excess loss (training-model loss minus reference-model loss). Underlined tokens (black bar) are the ones selective language modelling trains on; the rest stay in the context but contribute no loss. Hover a token for its numbers.";
    parts.push(
      card(
        "What SLM keeps and drops",
        `<p class="note">${escapeHtml(intro)}</p>${tokenHeatmapHtml(input.heatmap.docs, input.heatmap.options)}`,
        "heatmap",
      ),
    );
  }
  if (input.evalTable) parts.push(card("Evaluation", tableHtml(input.evalTable), "eval"));
  if (input.notes?.length) {
    parts.push(
      card("Notes", input.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join(""), "notes"),
    );
  }
  return pageHtml({
    title: input.title,
    subtitle: input.subtitle,
    footer: input.footer,
    body: parts.join("\n"),
  });
}

/** A page holding only a token heat-map (what `rho1 report` writes). */
export function tokenHeatmapPage(
  docs: HeatmapDoc[],
  opts: HeatmapOptions & { title?: string; subtitle?: string; intro?: string; summary?: Table } = {},
): string {
  return reportHtml({
    title: opts.title ?? "Token excess loss",
    subtitle: opts.subtitle,
    summary: opts.summary,
    heatmap: { docs, options: opts, intro: opts.intro },
  });
}

/** A page of loss curves alone. */
export function lossCurvesPage(charts: Chart[], opts: { title?: string; subtitle?: string } = {}): string {
  return reportHtml({ title: opts.title ?? "Loss curves", subtitle: opts.subtitle, curves: charts });
}
