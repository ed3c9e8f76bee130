/** A compact duration for progress lines and ETAs: "42s", "3m05s", "1h02m"; "?" when unknown (infinite, NaN). */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  return m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** One progress line: rewritten in place (\r) on a terminal, one line per update otherwise (logs, pipes). */
export class ProgressLine {
  private readonly tty: boolean;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }
  /** A line that stays (a notice, an evaluation) above the updating line. */
  note(text: string): void {
    this.stream.write(this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
  update(text: string): void {
    if (this.tty) this.stream.write(`\r${text}\x1b[K`);
    else this.stream.write(`${text}\n`);
  }
  /** Ends the line on a terminal so that what follows starts on its own. */
  done(): void {
    if (this.tty) this.stream.write("\n");
  }
}
