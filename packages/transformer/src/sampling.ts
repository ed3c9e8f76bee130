/** Token choice for generation: greedy argmax, temperature and nucleus (top-p) sampling with a seeded PRNG. */

/** mulberry32: a small, fast, seedable PRNG giving uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest value; the first one on ties (like torch.argmax). */
export function argmax(x: ArrayLike<number>, start = 0, length = x.length - start): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) {
    const v = x[start + i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * Samples from softmax(logits / temperature), restricted to the smallest set of most likely tokens whose
 * probability reaches topP (transformers' TopPLogitsWarper keeps at least one token).
 */
export function sampleToken(
  logits: ArrayLike<number>,
  start: number,
  length: number,
  temperature: number,
  topP: number,
  random: () => number,
): number {
  if (temperature <= 0) return argmax(logits, start, length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) max = Math.max(max, logits[start + i]);
  const probs = new Float64Array(length);
  let total = 0;
  for (let i = 0; i < length; i++) {
    probs[i] = Math.exp((logits[start + i] - max) / temperature);
    total += probs[i];
  }
  let candidates: number[];
  if (topP < 1) {
    const order = Array.from({ length }, (_, i) => i).sort((a, b) => probs[b] - probs[a]);
    candidates = [];
    let cumulative = 0;
    for (const i of order) {
      candidates.push(i);
      cumulative += probs[i] / total;
      if (cumulative >= topP) break;
    }
  } else {
    candidates = Array.from({ length }, (_, i) => i);
  }
  let mass = 0;
  for (const i of candidates) mass += probs[i];
  let u = random() * mass;
  for (const i of candidates) {
    u -= probs[i];
    if (u < 0) return i;
  }
  return candidates[candidates.length - 1];
}
