/** Reads a training run's metrics.jsonl (one StepMetrics object per optimizer step, written by @rho1/train). */
import { readFileSync } from "node:fs";
import type { StepMetrics } from "@rho1/train";

export function readMetrics(path: string): StepMetrics[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as StepMetrics;
      } catch {
        throw new Error(`${path}:${i + 1}: not valid JSON`);
      }
    });
}

/** Moving average over `window` points (shorter at the start), so noisy per-step losses read as curves. */
export function smooth(values: (number | null)[], window: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    let sum = 0;
    let n = 0;
    for (let j = Math.max(0, i - window + 1); j <= i; j++) {
      const v = values[j];
      if (v !== null && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    out.push(n ? sum / n : Number.NaN);
  }
  return out;
}

/**
 * Tokens at which a held-out loss curve first reaches `target`, linearly interpolated between the two checkpoints
 * around it; null when it never does. `loss` picks the curve's value from a point.
 */
export function tokensToReach<P extends { tokens: number }>(
  points: readonly P[],
  target: number,
  loss: (point: P) => number,
): number | null {
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    const [la, lb] = [loss(a), loss(b)];
    if (lb <= target) {
      const f = la === lb ? 1 : (la - target) / (la - lb);
      return a.tokens + f * (b.tokens - a.tokens);
    }
  }
  return null;
}
