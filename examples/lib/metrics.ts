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
