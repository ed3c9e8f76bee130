export {
  absQuantile,
  divergingColor,
  divergingGradientCss,
  NO_SCORE_COLOR,
  SERIES_COLORS,
  textColorOn,
} from "./color.ts";
export { ReportError } from "./errors.ts";
export { escapeHtml } from "./escape.ts";
export { formatNumber, formatSeconds, niceTicks } from "./format.ts";
export { type HeatmapDoc, type HeatmapOptions, heatmapLegendHtml, tokenHeatmapHtml } from "./heatmap.ts";
export { type Cell, pageHtml, REPORT_CSS, type Table, tableHtml } from "./page.ts";
export { type PieceStyle, pieceTexts, type TokenText } from "./pieces.ts";
export { formatEta, ProgressLine } from "./progress.ts";
export {
  type Chart,
  type Highlight,
  lossCurvesPage,
  type ReportInput,
  reportHtml,
  type Stage,
  tokenHeatmapPage,
} from "./report.ts";
export { type CurvesOptions, lossCurvesSvg, type Series } from "./svg.ts";
export { writeHtml, writeSvg } from "./write.ts";
