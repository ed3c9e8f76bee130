import { ops, type RopeScaling } from "@rho1/transformer";

const cache = new Map<string, Float64Array>();

/**
 * Rotary inverse frequencies (the model's own float64 definition, so both paths rotate alike), memoised per
 * (theta, D, scaling): the kernel runs for q and k in every layer.
 */
export function cachedInverseFrequencies(
  theta: number,
  d: number,
  scaling: RopeScaling | null,
): Float64Array {
  const key = JSON.stringify([theta, d, scaling]);
  let inv = cache.get(key);
  if (!inv) {
    inv = ops.inverseFrequencies(theta, d, scaling);
    if (cache.size > 64) cache.clear();
    cache.set(key, inv);
  }
  return inv;
}
