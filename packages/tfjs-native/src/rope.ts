/** Rotary inverse frequencies, the same float64 values as @rho1/transformer's `inverseFrequencies` (rope.ts). */
export interface RopeScalingAttr {
  type: string;
  factor?: number;
  originalMaxPositionEmbeddings?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
}

export function inverseFrequencies(theta: number, d: number, scaling: RopeScalingAttr | null): Float64Array {
  const half = d / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / d);
  if (!scaling) return inv;
  const factor = scaling.factor ?? 1;
  if (scaling.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= factor;
    return inv;
  }
  if (scaling.type === "llama3") {
    const oldContext = scaling.originalMaxPositionEmbeddings ?? 8192;
    const low = scaling.lowFreqFactor ?? 1;
    const high = scaling.highFreqFactor ?? 4;
    const lowWavelen = oldContext / low;
    const highWavelen = oldContext / high;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] /= factor;
      else if (wavelen >= highWavelen) {
        const smooth = (oldContext / wavelen - low) / (high - low);
        inv[i] = (1 - smooth) * (inv[i] / factor) + smooth * inv[i];
      }
    }
    return inv;
  }
  throw new Error(`rope scaling type ${JSON.stringify(scaling.type)} is not implemented`);
}

const cache = new Map<string, Float64Array>();

/** Memoised per (theta, D, scaling): the kernel runs for q and k in every layer. */
export function cachedInverseFrequencies(
  theta: number,
  d: number,
  scaling: RopeScalingAttr | null,
): Float64Array {
  const key = JSON.stringify([theta, d, scaling]);
  let inv = cache.get(key);
  if (!inv) {
    inv = inverseFrequencies(theta, d, scaling);
    if (cache.size > 64) cache.clear();
    cache.set(key, inv);
  }
  return inv;
}
