/**
 * Progress on stderr: documents, tokens, tokens/s and an ETA. A resumed run skips the units already scored in
 * an instant, so its rate and ETA come from this run's work only: tokens scored since it started, and the share
 * of the input bytes left to score in this run.
 */
import { formatEta } from "@rho1/report";

export interface ProgressSnapshot {
  unitsDone: number;
  unitsTotal: number;
  /** Documents and tokens in the store so far, resumed units included. */
  documents: number;
  tokens: number;
  /** Fraction of the store's input weight (bytes) done, resumed units included, 0..1. */
  fraction: number;
  /** Tokens scored by this process (not the resumed units'). */
  tokensThisRun: number;
  /** Fraction of this run's own work done: the weight of the units it scores, 0..1 (1 when nothing is left). */
  runFraction: number;
}

export type ProgressSink = (line: string, snapshot: ProgressSnapshot) => void;

export const stderrSink: ProgressSink = (line) => {
  process.stderr.write(`${line}\n`);
};

export class ProgressReporter {
  private readonly start: number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly intervalMs = 2000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
  }

  update(snapshot: ProgressSnapshot, force = false): void {
    if (!this.sink) return;
    const now = this.now();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    this.sink(progressLine(snapshot, (now - this.start) / 1000), snapshot);
  }
}

/** One progress line, `seconds` after this run started. */
export function progressLine(snapshot: ProgressSnapshot, seconds: number): string {
  const rate = snapshot.tokensThisRun / Math.max(seconds, 1e-9);
  const { runFraction } = snapshot;
  const eta =
    runFraction >= 1
      ? 0
      : runFraction > 0
        ? (seconds * (1 - runFraction)) / runFraction
        : Number.POSITIVE_INFINITY;
  return (
    `score: unit ${snapshot.unitsDone}/${snapshot.unitsTotal}  docs ${snapshot.documents.toLocaleString("en-US")}` +
    `  tokens ${snapshot.tokens.toLocaleString("en-US")}  ${Math.round(rate).toLocaleString("en-US")} tok/s` +
    `  ${(100 * snapshot.fraction).toFixed(1)}%  ETA ${formatEta(eta)}`
  );
}
