import { absQuantile, divergingColor, divergingGradientCss, textColorOn } from "./color.ts";
import { ReportError } from "./errors.ts";
import { escapeHtml } from "./escape.ts";
import { formatNumber } from "./format.ts";
import { type PieceStyle, pieceTexts } from "./pieces.ts";

/** One document of a heat-map; all arrays are aligned with `tokens` (one entry per token). */
export interface HeatmapDoc {
  title: string;
  /** Token pieces as the tokenizer names them (`idToToken`): "▁the", "<0x0A>", "<s>". */
  tokens: string[];
  /** Excess loss of each token (training-model loss − reference loss); NaN where there is no score. */
  excess: ArrayLike<number>;
  /** Whether selective training keeps the token's loss. */
  selected: ArrayLike<boolean | number>;
  /** Reference-model loss of each token (tooltip only). */
  refLoss?: ArrayLike<number>;
  /** Training-model loss of each token (tooltip only). */
  loss?: ArrayLike<number>;
  /** A category per token (e.g. the paper's H→L / L→H / H→H / L→L); coloured by `categoryColors` when given. */
  category?: ArrayLike<string | null>;
}

export interface HeatmapOptions {
  /** Colour scale saturates at ±maxAbs; default: the 95th percentile of |excess| over all documents. */
  maxAbs?: number;
  /** How to read pieces (default "sentencepiece"). */
  pieceStyle?: PieceStyle;
  /** Tokens shown per document (the rest are counted, not drawn); default 2000. */
  maxTokens?: number;
  /** Prefix for element ids, unique per page when several heat-maps share one (default "hm"). */
  id?: string;
  /** Show the legend and the "dim unselected" switch (default true). */
  legend?: boolean;
  /** Colour tokens by `doc.category` with these colours (category → CSS colour) instead of by excess loss. */
  categoryColors?: Record<string, string>;
}

function check(doc: HeatmapDoc, index: number, name: keyof HeatmapDoc, optional: boolean) {
  const value = doc[name] as ArrayLike<unknown> | undefined;
  if (value === undefined && optional) return;
  if (value === undefined || typeof value.length !== "number") {
    throw new ReportError(`docs[${index}].${name}`, "an array", String(value));
  }
  if (value.length !== doc.tokens.length) {
    throw new ReportError(
      `docs[${index}].${name}`,
      `${doc.tokens.length} entries (one per token)`,
      `${value.length} entries`,
    );
  }
}

function validate(docs: readonly HeatmapDoc[]) {
  if (!Array.isArray(docs)) throw new ReportError("docs", "an array of documents", typeof docs);
  docs.forEach((doc, i) => {
    if (!doc || !Array.isArray(doc.tokens))
      throw new ReportError(`docs[${i}].tokens`, "an array", String(doc?.tokens));
    check(doc, i, "excess", false);
    check(doc, i, "selected", false);
    check(doc, i, "refLoss", true);
    check(doc, i, "loss", true);
    check(doc, i, "category", true);
  });
}

/** Visible form of a token's text: newlines show a ↵ then break, other control chars their Unicode picture. */
function visibleText(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\n") out += "↵\n";
    else if (ch === "\t") out += ch;
    else if (code < 0x20) out += String.fromCodePoint(0x2400 + code);
    else if (code === 0x7f) out += "␡";
    else out += ch;
  }
  return out;
}

function signed(value: number): string {
  return value > 0 ? `+${formatNumber(value)}` : formatNumber(value);
}

function tooltip(doc: HeatmapDoc, t: number, selected: boolean): string {
  const lines = [`#${t} ${JSON.stringify(doc.tokens[t])}`];
  const excess = doc.excess[t];
  if (!Number.isFinite(excess)) {
    lines.push("no score (first token or padding)");
  } else {
    const parts: string[] = [];
    if (doc.loss) parts.push(`loss ${formatNumber(doc.loss[t])}`);
    if (doc.refLoss) parts.push(`ref ${formatNumber(doc.refLoss[t])}`);
    parts.push(`excess ${signed(excess)}`);
    lines.push(parts.join("  "));
    if (doc.category?.[t]) lines.push(`category ${doc.category[t]}`);
    lines.push(selected ? "selected (trained on)" : "not selected (context only)");
  }
  return lines.join("\n");
}

function docStats(doc: HeatmapDoc) {
  let scored = 0;
  let selected = 0;
  let sumSel = 0;
  let sumUnsel = 0;
  for (let t = 0; t < doc.tokens.length; t++) {
    const e = doc.excess[t];
    if (!Number.isFinite(e)) continue;
    scored++;
    if (doc.selected[t]) {
      selected++;
      sumSel += e;
    } else sumUnsel += e;
  }
  return {
    scored,
    selected,
    meanSel: selected ? sumSel / selected : Number.NaN,
    meanUnsel: scored - selected ? sumUnsel / (scored - selected) : Number.NaN,
  };
}

/** Legend: the colour bar with its scale, and what the selection mark looks like. */
export function heatmapLegendHtml(maxAbs: number): string {
  const m = formatNumber(maxAbs, 3);
  return `<div class="hm-legend">
<div class="hm-scale"><div class="hm-bar" style="background:${divergingGradientCss(maxAbs)}"></div>
<div class="hm-ticks"><span>≤ −${m}</span><span>0</span><span>≥ +${m}</span></div>
<div class="hm-ticks hm-captions"><span>below reference</span><span>excess loss = loss − reference loss</span><span>learnable, high excess</span></div></div>
<div class="hm-keys"><span class="tok sel" style="background:${divergingColor(maxAbs * 0.6, maxAbs)}">selected</span> trained on
<span class="tok" style="background:${divergingColor(-maxAbs * 0.6, maxAbs)}">not selected</span> context only
<span class="tok nos">no score</span></div>
</div>`;
}

/** Legend of a categorical heat-map: one swatch per category. */
function categoryLegendHtml(colors: Record<string, string>): string {
  const keys = Object.entries(colors).map(
    ([name, bg]) =>
      `<span class="tok" style="background:${bg};color:${textColorOn(bg)}">${escapeHtml(name)}</span>`,
  );
  return `<div class="hm-legend"><div class="hm-keys">${keys.join(" ")} <span class="tok nos">no score</span> <span class="tok sel">selected</span> underlined</div></div>`;
}

/**
 * A heat-map of documents' tokens coloured by excess loss (or by category, with `categoryColors`), selected tokens underlined, with a tooltip (title)
 * per token giving its numbers. Returns an HTML fragment styled by the CSS of `pageHtml`.
 */
export function tokenHeatmapHtml(docs: readonly HeatmapDoc[], opts: HeatmapOptions = {}): string {
  validate(docs);
  const maxAbs =
    opts.maxAbs !== undefined && opts.maxAbs > 0
      ? opts.maxAbs
      : absQuantile(
          docs.flatMap((d) => Array.from(d.excess)),
          0.95,
        );
  const maxTokens = opts.maxTokens ?? 2000;
  const id = escapeHtml(opts.id ?? "hm");
  const parts: string[] = [`<section class="rho1-heatmap" id="${id}">`];
  const colors = opts.categoryColors;
  if (opts.legend !== false) {
    parts.push(colors ? categoryLegendHtml(colors) : heatmapLegendHtml(maxAbs));
    parts.push(
      `<label class="hm-toggle"><input type="checkbox" id="${id}-dim"> dim unselected tokens</label>`,
    );
  }
  parts.push(`<div class="hm-docs">`);
  docs.forEach((doc, d) => {
    const texts = pieceTexts(doc.tokens, opts.pieceStyle);
    const stats = docStats(doc);
    const pct = stats.scored ? ((100 * stats.selected) / stats.scored).toFixed(1) : "0";
    parts.push(
      `<article class="hm-doc" data-doc="${d}"><h3>${escapeHtml(doc.title)}</h3>`,
      `<p class="hm-stats">${formatNumber(doc.tokens.length)} tokens · ${formatNumber(stats.selected)} of ${formatNumber(stats.scored)} scored selected (${pct}%) · mean excess selected ${formatNumber(stats.meanSel, 3)}, unselected ${formatNumber(stats.meanUnsel, 3)}</p>`,
      `<div class="hm-text">`,
    );
    const shown = Math.min(doc.tokens.length, maxTokens);
    for (let t = 0; t < shown; t++) {
      const excess = doc.excess[t];
      const selected = Boolean(doc.selected[t]) && Number.isFinite(excess);
      const { text, special } = texts[t];
      const classes = ["tok"];
      if (selected) classes.push("sel");
      if (!Number.isFinite(excess)) classes.push("nos");
      if (special) classes.push("special");
      if (text === "") classes.push("part");
      let style = "";
      const category = colors ? doc.category?.[t] : undefined;
      if (colors && category && colors[category]) {
        const bg = colors[category];
        style = ` style="background:${bg};color:${textColorOn(bg)}"`;
      } else if (!colors && Number.isFinite(excess)) {
        const bg = divergingColor(excess, maxAbs);
        style = ` style="background:${bg};color:${textColorOn(bg)}"`;
      }
      parts.push(
        `<span class="${classes.join(" ")}"${style} title="${escapeHtml(tooltip(doc, t, selected))}">${escapeHtml(visibleText(text))}</span>`,
      );
    }
    parts.push("</div>");
    if (shown < doc.tokens.length) {
      parts.push(`<p class="hm-more">… ${formatNumber(doc.tokens.length - shown)} more tokens not shown</p>`);
    }
    parts.push("</article>");
  });
  parts.push("</div></section>");
  return parts.join("");
}
