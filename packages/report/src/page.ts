import { escapeHtml } from "./escape.ts";
import { formatNumber } from "./format.ts";

/** All styles of the report components, inlined into every page (no external CSS, fonts or scripts). */
export const REPORT_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1b1b1b;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
header.page h1 { margin: 0 0 4px; font-size: 26px; letter-spacing: -0.01em; }
header.page p { margin: 0; color: #555; }
section.card { background: #fff; border: 1px solid #e2e4e8; border-radius: 10px; padding: 18px 20px; margin: 18px 0; }
section.card > h2 { margin: 0 0 10px; font-size: 18px; }
p.note { color: #555; margin: 6px 0 12px; font-size: 14px; }
.highlights { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0; }
.highlight { flex: 1 1 200px; background: #fff; border: 1px solid #e2e4e8; border-radius: 10px; padding: 12px 16px; }
.highlight .label { color: #555; font-size: 13px; }
.highlight .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.highlight .sub { color: #666; font-size: 13px; }
table.data { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 14px; }
table.data caption { text-align: left; color: #555; padding-bottom: 6px; }
table.data th, table.data td { padding: 6px 10px; border-bottom: 1px solid #eceef1; text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data thead th { border-bottom: 2px solid #d5d8dd; font-weight: 600; }
table.data td.best { font-weight: 700; color: #0b6b3a; }
td .bar { display: inline-block; height: 10px; background: #7aa6d6; border-radius: 2px; vertical-align: middle; margin-right: 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; }
figure.chart { margin: 0; flex: 1 1 480px; }
figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eceef1; border-radius: 6px; }
figure.chart figcaption { color: #555; font-size: 13px; margin-top: 4px; }
.hm-legend { display: flex; flex-wrap: wrap; gap: 10px 28px; align-items: flex-end; margin: 4px 0 10px; font-size: 13px; color: #444; }
.hm-scale { width: 440px; max-width: 100%; }
.hm-bar { height: 12px; border-radius: 3px; border: 1px solid #d0d0d0; }
.hm-ticks { display: flex; justify-content: space-between; font-variant-numeric: tabular-nums; }
.hm-captions { color: #777; font-size: 12px; gap: 8px; }
.hm-captions span { flex: 1 1 0; }
.hm-captions span:nth-child(2) { text-align: center; }
.hm-captions span:last-child { text-align: right; }
.hm-keys .tok { padding: 1px 5px; margin: 0 2px 0 10px; }
.hm-keys .tok:first-child { margin-left: 0; }
.hm-toggle { font-size: 13px; color: #444; user-select: none; }
.hm-doc { border-top: 1px solid #eceef1; padding-top: 10px; margin-top: 12px; }
.hm-doc h3 { margin: 0; font-size: 15px; }
.hm-stats { margin: 2px 0 8px; color: #666; font-size: 12.5px; }
.hm-text { white-space: pre-wrap; word-break: break-word; line-height: 1.9; font-size: 14.5px;
  font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.tok { border-radius: 2px; box-shadow: inset -1px 0 0 rgba(255, 255, 255, 0.55); padding: 1px 0; }
.tok.sel { box-shadow: inset -1px 0 0 rgba(255, 255, 255, 0.55), inset 0 -3px 0 #111; }
.tok.nos { background: #e4e4e4; color: #777; }
.tok.special { font-size: 11px; color: #666; border: 1px dashed #aaa; padding: 0 2px; }
.tok.part { display: inline-block; width: 3px; height: 1.1em; vertical-align: text-bottom; }
.tok:hover { outline: 2px solid #222; outline-offset: 0; position: relative; z-index: 1; }
.rho1-heatmap:has(.hm-toggle input:checked) .hm-doc .tok:not(.sel) { opacity: 0.28; }
.hm-more { color: #777; font-size: 13px; }
footer.page { color: #777; font-size: 13px; margin-top: 28px; }
`;

/** A complete, self-contained HTML document (inline CSS; works opened from disk). `body` is trusted HTML. */
export function pageHtml(opts: { title: string; body: string; subtitle?: string; footer?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header class="page"><h1>${escapeHtml(opts.title)}</h1>${opts.subtitle ? `<p>${escapeHtml(opts.subtitle)}</p>` : ""}</header>
${opts.body}
${opts.footer ? `<footer class="page">${escapeHtml(opts.footer)}</footer>` : ""}
</main>
</body>
</html>
`;
}

export type Cell = string | number | null | undefined;

export interface Table {
  caption?: string;
  columns: string[];
  rows: Cell[][];
  /** Per row: mark the lowest ("min") or highest ("max") numeric cell after the first column as best. */
  best?: ("min" | "max" | null | undefined)[];
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return "–";
  return typeof c === "number" ? formatNumber(c) : c;
}

/** A data table (first column = row labels); text is escaped. */
export function tableHtml(table: Table): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = table.rows
    .map((row, r) => {
      const rule = table.best?.[r];
      let bestIndex = -1;
      if (rule) {
        for (let i = 1; i < row.length; i++) {
          const v = row[i];
          if (typeof v !== "number" || !Number.isFinite(v)) continue;
          const cur = row[bestIndex] as number;
          if (bestIndex < 0 || (rule === "min" ? v < cur : v > cur)) bestIndex = i;
        }
      }
      const cells = row.map((c, i) => {
        const tag = i === 0 ? "th" : "td";
        const cls = i === bestIndex ? ' class="best"' : "";
        return `<${tag}${cls}>${escapeHtml(cellText(c))}</${tag}>`;
      });
      return `<tr>${cells.join("")}</tr>`;
    })
    .join("\n");
  return `<table class="data">${table.caption ? `<caption>${escapeHtml(table.caption)}</caption>` : ""}<thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>`;
}
