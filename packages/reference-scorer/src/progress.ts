/** Progress on stderr: documents, tokens, tokens/s and an ETA from the share of input bytes still to score. */
import { formatEta } from "@rho1/report";

export interface ProgressSnapshot {
  unitsDone: number;
  unitsTotal: number;
  documents: number;
  tokens: number;
  /** Fraction of this run's input weight (bytes) done, 0..1. */
  fraction: number;
}

export type ProgressSink = (line: string, snapshot: ProgressSnapshot) => void;

export const stderrSink: ProgressSink = (line) => {
  process.stderr.write(`${line}\n`);
};

export class ProgressReporter {
  private readonly start = performance.now();
  private last = 0;
  /** Fraction already done before this process started (resumed units): not part of the rate. */
  private baseFraction = -1;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly intervalMs = 2000,
  ) {}

  update(snapshot: ProgressSnapshot, tokensThisRun: number, force = false): void {
    if (!this.sink) return;
    const now = performance.now();
    if (this.baseFraction < 0) this.baseFraction = snapshot.fraction;
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    const elapsed = (now - this.start) / 1000;
    const rate = tokensThisRun / Math.max(elapsed, 1e-9);
    const doneHere = snapshot.fraction - this.baseFraction;
    const eta = doneHere > 0 ? (elapsed * (1 - snapshot.fraction)) / doneHere : Number.POSITIVE_INFINITY;
    const line =
      `score: unit ${snapshot.unitsDone}/${snapshot.unitsTotal}  docs ${snapshot.documents.toLocaleString("en-US")}` +
      `  tokens ${snapshot.tokens.toLocaleString("en-US")}  ${Math.round(rate).toLocaleString("en-US")} tok/s` +
      `  ${(100 * snapshot.fraction).toFixed(1)}%  ETA ${snapshot.fraction >= 1 ? "0s" : formatEta(eta)}`;
    this.sink(line, snapshot);
  }
}
