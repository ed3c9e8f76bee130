export interface ScheduleOptions {
  lr: number;
  minLr: number;
  warmup: number;
  total: number;
}

/**
 * Learning rate for 0-based step `step`: linear warm-up to `lr` over `warmup` steps (step 0 already trains at
 * lr/warmup, not 0), then cosine decay to `minLr` at step `total − 1`.
 */
export function cosineSchedule(step: number, opts: ScheduleOptions): number {
  const { lr, minLr, warmup, total } = opts;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const decaySteps = total - warmup - 1;
  if (decaySteps <= 0) return lr;
  const progress = Math.min(1, (step - warmup) / decaySteps);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
