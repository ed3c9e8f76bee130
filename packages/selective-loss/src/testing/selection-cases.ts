/**
 * Inputs on which selectTokensOnDevice must give selectTokens' mask exactly, on every backend: ties (values on a
 * coarse grid), NaN and ±∞, padding, a row with no valid token, a single token, and ratios down to one kept token and
 * up to all of them. Shared by the cpu unit test and the WebGPU golden run.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SelectionScope } from "../select.ts";
import { selectTokens } from "../select.ts";
import { selectTokensOnDevice } from "../select-device.ts";

export interface SelectionCase {
  name: string;
  batch: number;
  time: number;
  excess: Float32Array;
  valid: Float32Array;
  ratio: number;
  scope: SelectionScope;
}

/** Deterministic cases (a small LCG, so both backends see the same numbers). */
export function selectionCases(): SelectionCase[] {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const cases: SelectionCase[] = [];
  const shapes: [number, number][] = [
    [1, 1],
    [1, 7],
    [3, 5],
    [4, 127],
    [8, 127],
    [2, 300],
    [16, 2047], // a real batch: 32,752 tokens, far from a power of two (tf.topk pads to one)
  ];
  for (const [batch, time] of shapes) {
    for (const grid of [0, 4]) {
      const n = batch * time;
      const excess = new Float32Array(n);
      const valid = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const x = random() * 6 - 3;
        excess[i] = grid ? Math.round(x * grid) / grid : x; // a coarse grid: many exact ties
        const u = random();
        if (u < 0.01) excess[i] = Number.NaN;
        else if (u < 0.02) excess[i] = Number.POSITIVE_INFINITY;
        else if (u < 0.03) excess[i] = Number.NEGATIVE_INFINITY;
        valid[i] = random() < 0.85 ? 1 : 0;
      }
      if (batch > 2) valid.fill(0, time, 2 * time); // the second row is all padding
      for (const ratio of [0.05, 0.3, 0.6, 0.999, 1])
        for (const scope of ["batch", "sequence"] as const)
          cases.push({
            name: `${batch}×${time} grid ${grid} ratio ${ratio} ${scope}`,
            batch,
            time,
            excess,
            valid,
            ratio,
            scope,
          });
    }
  }
  return cases;
}

/** Names of the cases where the device mask differs from selectTokens' (empty when all agree). */
export async function deviceSelectionMismatches(): Promise<string[]> {
  const wrong: string[] = [];
  for (const c of selectionCases()) {
    const want = selectTokens(c.excess, c.valid, c.batch, c.time, c.ratio, c.scope);
    const excess = tf.tensor2d(c.excess, [c.batch, c.time], "float32");
    const mask = selectTokensOnDevice(excess, c.valid, c.batch, c.time, c.ratio, c.scope);
    const got = (await mask.data()) as Float32Array;
    excess.dispose();
    mask.dispose();
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) wrong.push(c.name);
  }
  return wrong;
}
