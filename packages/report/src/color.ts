/**
 * Diverging colour scale for excess loss: blue (the training model already beats the reference) through
 * near-white (0) to red (high excess: what SLM selects). Each side is a straight mix from the neutral colour to
 * its end colour, so every channel moves monotonically with the value on each side and red-minus-blue rises
 * monotonically across the whole scale.
 */
type Rgb = [number, number, number];

const NEUTRAL: Rgb = [246, 246, 244];
const NEGATIVE: Rgb = [33, 102, 172];
const POSITIVE: Rgb = [178, 24, 43];
/** Colour of tokens without a score (the first token of a sequence, padding). */
export const NO_SCORE_COLOR = "#e4e4e4";

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;
}

function hex([r, g, b]: Rgb): string {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

/** Colour for `value` on a symmetric scale [-maxAbs, +maxAbs] (values beyond are clamped). */
export function divergingColor(value: number, maxAbs: number): string {
  if (!Number.isFinite(value)) return NO_SCORE_COLOR;
  const t = maxAbs > 0 ? Math.max(-1, Math.min(1, value / maxAbs)) : Math.sign(value);
  return hex(t < 0 ? mix(NEUTRAL, NEGATIVE, -t) : mix(NEUTRAL, POSITIVE, t));
}

/** Text colour readable on `background` (hex #rrggbb): white on dark, near-black on light. */
export function textColorOn(background: string): string {
  const n = Number.parseInt(background.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  // Relative luminance, sRGB approximation good enough for picking black or white.
  return 0.299 * r + 0.587 * g + 0.114 * b < 140 ? "#ffffff" : "#1b1b1b";
}

/** CSS linear-gradient of the scale, for legends. */
export function divergingGradientCss(maxAbs = 1, stops = 9): string {
  const colors: string[] = [];
  for (let i = 0; i < stops; i++)
    colors.push(divergingColor(-maxAbs + (2 * maxAbs * i) / (stops - 1), maxAbs));
  return `linear-gradient(to right, ${colors.join(", ")})`;
}

/** Default series colours (colour-blind-friendly, Okabe–Ito order with darker yellow). */
export const SERIES_COLORS = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#56b4e9",
  "#e69f00",
  "#666666",
  "#b8a000",
];

/** The `q` quantile (0..1) of |values| over finite entries, or `fallback` when there are none. */
export function absQuantile(values: Iterable<number>, q: number, fallback = 1): number {
  const abs: number[] = [];
  for (const v of values) if (Number.isFinite(v)) abs.push(Math.abs(v));
  if (abs.length === 0) return fallback;
  abs.sort((a, b) => a - b);
  const value = abs[Math.min(abs.length - 1, Math.floor(q * (abs.length - 1) + 0.5))];
  return value > 0 ? value : fallback;
}
