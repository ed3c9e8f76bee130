/**
 * metrics.jsonl: one JSON line per optimizer step (and per evaluation), appended as the run goes, so that it survives faults.
 *
 * - Each line goes out in one write(2). A short write (the disk filled mid-line) is cut back off at once, so the file
 *   only ever ends in a whole line, and the error names the file.
 * - Lines up to a checkpoint's step are fsynced before that checkpoint is published (`sync`), so a checkpoint that
 *   survives a power cut has its log lines too.
 * - On resume, a torn last line (left by an older writer or a disk that lied) and every line after the checkpoint's
 *   step are dropped, with one notice: the log then equals the uninterrupted run's.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { ioError, syncFile, writeFileAtomic } from "@rho1/io";
import { TrainError } from "./errors.ts";
import type { MetricsLine } from "./report.ts";

export class MetricsLog {
  constructor(readonly path: string) {}

  /** Appends one line in one write; on a short write or an error, the file is cut back to its old length. */
  append(metrics: MetricsLine): void {
    const line = Buffer.from(`${JSON.stringify(metrics)}\n`);
    let fd: number;
    try {
      fd = openSync(this.path, "a");
    } catch (error) {
      throw ioError(this.path, error);
    }
    try {
      const before = fstatSync(fd).size;
      let written = 0;
      try {
        written = writeSync(fd, line);
      } catch (error) {
        ftruncateSync(fd, before);
        throw ioError(this.path, error);
      }
      if (written !== line.length) {
        ftruncateSync(fd, before);
        throw ioError(this.path, {
          code: "ENOSPC",
          message: `wrote ${written} of ${line.length} bytes of the step ${metrics.step} line; the disk is full`,
        });
      }
    } finally {
      closeSync(fd);
    }
  }

  /** fsync: the lines written so far reach the disk (called before a checkpoint is published). */
  sync(): void {
    if (!existsSync(this.path)) return;
    const fd = openSync(this.path, "r+");
    try {
      syncFile(fd);
    } catch (error) {
      throw ioError(this.path, error, "cannot sync");
    } finally {
      closeSync(fd);
    }
  }

  /** A fresh run (no checkpoint to continue from): nothing of an earlier attempt is kept. */
  reset(): void {
    rmSync(this.path, { force: true });
  }

  /**
   * Resuming from the checkpoint of `step`: keeps the lines up to it and returns them. A torn last line and lines
   * after `step` are dropped (the file rewritten whole, in place of the old one), reported through `notice`.
   * A malformed line before the last is not a tear but damage: a TrainError naming the file and line.
   */
  restore(step: number, notice: (line: string) => void): MetricsLine[] {
    if (!existsSync(this.path)) return [];
    const lines = readFileSync(this.path, "utf8").split("\n");
    const kept: MetricsLine[] = [];
    let torn = false;
    let beyond = 0;
    lines.forEach((line, i) => {
      const last = i === lines.length - 1; // text after the final "\n": a line whose newline never came
      if (last) {
        torn = line !== "";
        return;
      }
      if (line.trim() === "") return;
      let m: MetricsLine;
      try {
        m = JSON.parse(line) as MetricsLine;
      } catch {
        throw new TrainError(
          `${this.path}:${i + 1}: not a JSON line (${line.slice(0, 60)}…); fix or delete the file to resume`,
          "bad_metrics",
        );
      }
      if (typeof m?.step !== "number")
        throw new TrainError(`${this.path}:${i + 1}: no "step" field`, "bad_metrics");
      if (m.step > step) beyond++;
      else kept.push(m);
    });
    if (torn || beyond > 0) {
      const what = [
        torn ? "a torn last line" : "",
        beyond > 0 ? `${beyond} line${beyond === 1 ? "" : "s"} after step ${step}` : "",
      ]
        .filter(Boolean)
        .join(" and ");
      notice(`rho1 train: ${this.path}: dropped ${what}, resuming from the checkpoint of step ${step}`);
      writeFileAtomic(this.path, kept.map((m) => `${JSON.stringify(m)}\n`).join(""));
    }
    return kept;
  }
}
