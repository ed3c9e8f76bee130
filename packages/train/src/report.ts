import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { parseJsonLines, writeFileAtomic } from "@rho1/io";

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

/** Keeps metrics.jsonl lines up to `step` (a resumed run rewrites what came after its checkpoint). */
export function truncateMetrics(path: string, step: number): StepMetrics[] {
  if (!existsSync(path)) return [];
  const kept = [...parseJsonLines(readFileSync(path, "utf8"), path)]
    .map((record) => record.value as StepMetrics)
    .filter((m) => m.step <= step);
  writeFileAtomic(path, kept.map((m) => `${JSON.stringify(m)}\n`).join(""));
  return kept;
}

export function appendMetrics(path: string, m: StepMetrics): void {
  appendFileSync(path, `${JSON.stringify(m)}\n`);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/**
 * A self-contained HTML page (inline SVG, no scripts or CDN) with the loss of all, selected and unselected tokens
 * per step: the paper's Fig. 6 for this run.
 */
export function lossCurvesHtml(metrics: StepMetrics[], title: string): string {
  const W = 720;
  const H = 360;
  const pad = { l: 56, r: 16, t: 16, b: 40 };
  const series = [
    { key: "loss", label: "all tokens", color: "#444" },
    { key: "loss_selected", label: "selected tokens", color: "#d62728" },
    { key: "loss_unselected", label: "unselected tokens", color: "#1f77b4" },
  ] as const;
  const values = metrics.flatMap((m) =>
    series.map((s) => m[s.key]).filter((v): v is number => typeof v === "number" && Number.isFinite(v)),
  );
  const steps = metrics.map((m) => m.step);
  const x0 = Math.min(...steps, 0);
  const x1 = Math.max(...steps, 1);
  let y0 = values.length ? Math.min(...values) : 0;
  let y1 = values.length ? Math.max(...values) : 1;
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
  const sy = (y: number) => pad.t + (1 - (y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const lines = series
    .map((s) => {
      const pts = metrics
        .filter((m) => typeof m[s.key] === "number" && Number.isFinite(m[s.key] as number))
        .map((m) => `${sx(m.step).toFixed(1)},${sy(m[s.key] as number).toFixed(1)}`);
      return pts.length
        ? `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(" ")}"/>`
        : "";
    })
    .join("\n");
  const ticks = Array.from({ length: 5 }, (_, i) => y0 + ((y1 - y0) * i) / 4)
    .map(
      (y) =>
        `<text x="${pad.l - 6}" y="${sy(y) + 4}" text-anchor="end">${y.toFixed(3)}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`,
    )
    .join("");
  const legend = series.map((s) => `<span style="color:${s.color}">━ ${s.label}</span>`).join(" &nbsp; ");
  const last = metrics.at(-1);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222} svg text{font-size:11px;fill:#555}</style></head>
<body><h1 style="font-size:18px">${escapeHtml(title)}</h1>
<p>${legend}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
${ticks}
<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="#888"/>
<text x="${pad.l}" y="${H - pad.b + 16}">${x0}</text><text x="${W - pad.r}" y="${H - pad.b + 16}" text-anchor="end">${x1}</text>
<text x="${(W + pad.l) / 2}" y="${H - 6}" text-anchor="middle">step</text>
${lines}
</svg>
<p>${last ? `step ${last.step}: loss ${last.loss.toFixed(4)}, selected ${last.loss_selected.toFixed(4)}${last.loss_unselected === null ? "" : `, unselected ${last.loss_unselected.toFixed(4)}`}; ${last.selected_tokens} selected of ${last.tokens} tokens` : "no steps yet"}</p>
</body></html>
`;
}

export function writeLossCurves(path: string, metrics: StepMetrics[], title: string): void {
  writeFileAtomic(path, lossCurvesHtml(metrics, title));
}

/** One updating progress line on a terminal (\r), plain lines otherwise. */
export class Progress {
  private readonly tty: boolean;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }
  update(text: string): void {
    if (this.tty) this.stream.write(`\r${text}\x1b[K`);
    else this.stream.write(`${text}\n`);
  }
  done(): void {
    if (this.tty) this.stream.write("\n");
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
