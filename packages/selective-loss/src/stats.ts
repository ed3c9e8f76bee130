/** What the paper plots about a selection (Fig. 6 and the excess-loss distribution). */
export interface SelectionStats {
  nValid: number;
  nSelected: number;
  /** nSelected / nValid. */
  selectedFraction: number;
  /** Mean CE of selected tokens (NaN when none). */
  meanCeSelected: number;
  /** Mean CE of valid tokens that were not selected (NaN when none, e.g. ratio 1). */
  meanCeUnselected: number;
  /** Mean excess loss (ce − ref) over valid tokens. */
  meanExcess: number;
  meanExcessSelected: number;
  /** Histogram of the excess loss of valid tokens: counts[i] tokens in [edges[i], edges[i+1]) (last bin closed). */
  histogram: { edges: number[]; counts: number[] };
}

export interface HistogramOptions {
  /** Number of bins (default 20). */
  bins?: number;
  /** Fixed [low, high] range so histograms of different steps line up; values outside clamp to the end bins.
   *  Default: the min and max of this batch. */
  range?: [number, number];
}

/** [min, max] like Math.min(...values) / Math.max(...values) (NaN in, NaN out), without spreading: a spread of a
 *  large batch's values (~10⁶ tokens) overflows the call stack. */
function extent(values: number[]): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  return [low, high];
}

export function histogram(
  values: number[],
  opts: HistogramOptions = {},
): { edges: number[]; counts: number[] } {
  const bins = Math.max(1, Math.floor(opts.bins ?? 20));
  let [low, high] = opts.range ?? extent(values);
  if (values.length === 0 && !opts.range) [low, high] = [0, 1];
  if (!(high > low)) high = low + 1;
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => low + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((v - low) / width)));
    counts[bin] = (counts[bin] as number) + 1;
  }
  return { edges, counts };
}

/** Token counts and loss sums over valid tokens, from which every mean of SelectionStats follows. */
interface Sums {
  nValid: number;
  nSelected: number;
  ceSel: number;
  ceUnsel: number;
  exAll: number;
  exSel: number;
}

const zeroSums = (): Sums => ({ nValid: 0, nSelected: 0, ceSel: 0, ceUnsel: 0, exAll: 0, exSel: 0 });

function means(t: Sums): Omit<SelectionStats, "histogram"> {
  const nUnsel = t.nValid - t.nSelected;
  return {
    nValid: t.nValid,
    nSelected: t.nSelected,
    selectedFraction: t.nValid ? t.nSelected / t.nValid : 0,
    meanCeSelected: t.nSelected ? t.ceSel / t.nSelected : Number.NaN,
    meanCeUnselected: nUnsel ? t.ceUnsel / nUnsel : Number.NaN,
    meanExcess: t.nValid ? t.exAll / t.nValid : Number.NaN,
    meanExcessSelected: t.nSelected ? t.exSel / t.nSelected : Number.NaN,
  };
}

export function selectionStats(
  ce: Float32Array | Int32Array | Uint8Array,
  excess: Float32Array,
  valid: Float32Array,
  selected: Float32Array,
  histogramOptions?: HistogramOptions,
): SelectionStats {
  const t = zeroSums();
  const validExcess: number[] = [];
  for (let i = 0; i < valid.length; i++) {
    if (valid[i] === 0) continue;
    const c = ce[i] as number;
    const e = excess[i] as number;
    t.nValid++;
    t.exAll += e;
    validExcess.push(e);
    if (selected[i] !== 0) {
      t.nSelected++;
      t.ceSel += c;
      t.exSel += e;
    } else t.ceUnsel += c;
  }
  return {
    ...means(t),
    histogram: histogram(validExcess, histogramOptions),
  };
}

/** The counts and means of a batch from the stats of its parts (micro-batches), weighted by token counts; meanCe is
 *  the mean CE over all valid tokens. */
export function combineStats(
  parts: SelectionStats[],
): Omit<SelectionStats, "histogram"> & { meanCe: number } {
  let nValid = 0;
  let nSelected = 0;
  let ceSel = 0;
  let ceUnsel = 0;
  let exAll = 0;
  let exSel = 0;
  for (const s of parts) {
    nValid += s.nValid;
    nSelected += s.nSelected;
    if (s.nSelected) ceSel += s.meanCeSelected * s.nSelected;
    if (s.nValid > s.nSelected) ceUnsel += s.meanCeUnselected * (s.nValid - s.nSelected);
    if (s.nValid) exAll += s.meanExcess * s.nValid;
    if (s.nSelected) exSel += s.meanExcessSelected * s.nSelected;
  }
  return {
    ...means({ nValid, nSelected, ceSel, ceUnsel, exAll, exSel }),
    meanCe: (ceSel + ceUnsel) / nValid,
  };
}
