import { SERIES_COLORS } from "./color.ts";
import { ReportError } from "./errors.ts";
import { escapeHtml } from "./escape.ts";
import { formatNumber, niceTicks } from "./format.ts";

export interface Series {
  name: string;
  /** CSS colour; default from a colour-blind-friendly palette by position. */
  color?: string;
  /** [x, y] points in x order; a non-finite y breaks the line. */
  points: [number, number][];
  /** Dashed line (e.g. for a baseline or the "unselected" variant of a series). */
  dashed?: boolean;
}

export interface CurvesOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Fix the y range instead of fitting it to the data. */
  yMin?: number;
  yMax?: number;
  /** Draw point markers (with tooltips) when a series has at most this many points (default 40). */
  markersUpTo?: number;
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

function fixed(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/**
 * A line chart as a standalone SVG string (own xmlns, fonts and colours; no CSS or script needed), for loss
 * curves: one line per series, nice axis ticks, grid, legend.
 */
export function lossCurvesSvg(series: readonly Series[], opts: CurvesOptions = {}): string {
  if (!Array.isArray(series)) throw new ReportError("series", "an array of series", typeof series);
  series.forEach((s, i) => {
    if (!s || !Array.isArray(s.points))
      throw new ReportError(`series[${i}].points`, "an array of [x, y]", String(s?.points));
    (s.points as unknown[]).forEach((p: unknown, j: number) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "number") {
        throw new ReportError(`series[${i}].points[${j}]`, "[x, y] numbers", JSON.stringify(p));
      }
    });
  });
  const width = opts.width ?? 640;
  const height = opts.height ?? 340;
  const margin = {
    top: opts.title ? 36 : 14,
    right: 18,
    bottom: opts.xLabel ? 48 : 32,
    left: opts.yLabel ? 66 : 52,
  };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series)
    for (const [x, y] of s.points)
      if (Number.isFinite(x) && Number.isFinite(y)) {
        xs.push(x);
        ys.push(y);
      }
  const xTicks = niceTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 6);
  const yTicks = niceTicks(
    opts.yMin ?? (ys.length ? Math.min(...ys) : 0),
    opts.yMax ?? (ys.length ? Math.max(...ys) : 1),
    5,
  );
  const sx = (x: number) => margin.left + ((x - xTicks.lo) / (xTicks.hi - xTicks.lo)) * plotW;
  const sy = (y: number) => margin.top + (1 - (y - yTicks.lo) / (yTicks.hi - yTicks.lo)) * plotH;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="rho1-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeHtml(FONT)}" font-size="12" role="img"${opts.title ? ` aria-label="${escapeHtml(opts.title)}"` : ""}>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) {
    out.push(
      `<text x="${margin.left}" y="22" font-size="14" font-weight="600" fill="#1b1b1b">${escapeHtml(opts.title)}</text>`,
    );
  }
  // Grid and tick labels.
  out.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`);
  for (const t of yTicks.ticks)
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fixed(sy(t))}" y2="${fixed(sy(t))}"/>`,
    );
  for (const t of xTicks.ticks)
    out.push(
      `<line x1="${fixed(sx(t))}" x2="${fixed(sx(t))}" y1="${margin.top}" y2="${margin.top + plotH}"/>`,
    );
  out.push("</g>");
  out.push(`<g class="ticks" fill="#555555">`);
  for (const t of yTicks.ticks)
    out.push(
      `<text x="${margin.left - 6}" y="${fixed(sy(t) + 4)}" text-anchor="end">${escapeHtml(formatNumber(t))}</text>`,
    );
  for (const t of xTicks.ticks)
    out.push(
      `<text x="${fixed(sx(t))}" y="${margin.top + plotH + 16}" text-anchor="middle">${escapeHtml(formatNumber(t))}</text>`,
    );
  out.push("</g>");
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#bbbbbb"/>`,
  );
  if (opts.xLabel) {
    out.push(
      `<text class="x-label" x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle" fill="#333333">${escapeHtml(opts.xLabel)}</text>`,
    );
  }
  if (opts.yLabel) {
    const cy = margin.top + plotH / 2;
    out.push(
      `<text class="y-label" x="16" y="${cy}" transform="rotate(-90 16 ${cy})" text-anchor="middle" fill="#333333">${escapeHtml(opts.yLabel)}</text>`,
    );
  }
  // Lines: a non-finite point ends the current segment.
  const markersUpTo = opts.markersUpTo ?? 40;
  series.forEach((s, i) => {
    const color = escapeHtml(s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]);
    let d = "";
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${fixed(sx(x))} ${fixed(sy(y))}`;
      pen = true;
    }
    out.push(`<g class="series" data-name="${escapeHtml(s.name)}">`);
    if (d) {
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      );
    }
    if (s.points.length <= markersUpTo) {
      for (const [x, y] of s.points) {
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        out.push(
          `<circle cx="${fixed(sx(x))}" cy="${fixed(sy(y))}" r="2.8" fill="${color}"><title>${escapeHtml(`${s.name}: x ${formatNumber(x)}, y ${formatNumber(y)}`)}</title></circle>`,
        );
      }
    }
    out.push("</g>");
  });
  // Legend, top right inside the plot, on a translucent card so lines stay visible beneath.
  if (series.length > 0) {
    const rowH = 17;
    const legendW = Math.min(plotW - 8, 42 + 7.2 * Math.max(...series.map((s) => s.name.length)));
    const lx = margin.left + plotW - legendW - 6;
    const ly = margin.top + 6;
    out.push(
      `<g class="legend"><rect x="${lx}" y="${ly}" width="${legendW}" height="${series.length * rowH + 8}" rx="4" fill="#ffffff" fill-opacity="0.85" stroke="#dddddd"/>`,
    );
    series.forEach((s, i) => {
      const color = escapeHtml(s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]);
      const y = ly + 4 + rowH * i + rowH / 2;
      out.push(
        `<line x1="${lx + 8}" x2="${lx + 26}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
        `<text x="${lx + 32}" y="${y + 4}" fill="#1b1b1b">${escapeHtml(s.name)}</text>`,
      );
    });
    out.push("</g>");
  }
  out.push("</svg>");
  return out.join("");
}
