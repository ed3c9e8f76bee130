import { ops, type RopeScaling } from "@rho1/transformer";

/** The model's rope scaling attribute (a RopeScaling from the config, passed through the kernel's attrs). */
export type RopeScalingAttr = RopeScaling;

/** Rotary inverse frequencies: the model's own definition, so both paths use the same float64 values. */
export const inverseFrequencies = ops.inverseFrequencies;

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
