/** Reads a training run's metrics.jsonl (written by @rho1/train): its per-step lines, selection fields filled in. */
import { isEvalLine, readMetricsLines, type StepMetrics } from "@rho1/train";

/** A step line with the selection fields always present (a plain causal-LM run selects every token). */
export type RunMetrics = StepMetrics & {
  loss_selected: number;
  loss_unselected: number | null;
  selected_tokens: number;
};

export function readMetrics(path: string): RunMetrics[] {
  return readMetricsLines(path)
    .filter((m): m is StepMetrics => !isEvalLine(m))
    .map((m) => ({
      ...m,
      loss_selected: m.loss_selected ?? m.loss,
      loss_unselected: m.loss_unselected ?? null,
      selected_tokens: m.selected_tokens ?? m.tokens,
    }));
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
