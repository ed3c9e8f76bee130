import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IoError } from "@rho1/io";
import { TrainError } from "./errors.ts";
import { MetricsLog } from "./metrics-log.ts";
import type { StepMetrics } from "./report.ts";
import { fillDisk, mountTmpfs } from "./testing/tmpfs.ts";

const work = mkdtempSync(join(tmpdir(), "rho1-metrics-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const line = (step: number): StepMetrics => ({
  step,
  lr: 1e-4 * step,
  loss: 3 + 1 / step,
  loss_selected: 3.5,
  loss_unselected: null,
  tokens: 100 * step,
  selected_tokens: 60 * step,
  tokens_per_s: 1234.5,
  grad_norm: 0.75,
  excess_loss: null,
});
const text = (steps: number[]) => steps.map((s) => `${JSON.stringify(line(s))}\n`).join("");
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test("resume drops lines after the checkpoint's step, with a notice, and keeps the rest byte for byte", () => {
  const path = join(work, "beyond.jsonl");
  writeFileSync(path, text(range(7)));
  const notices: string[] = [];
  const kept = new MetricsLog(path).restore(4, (l) => notices.push(l));
  expect(kept.map((m) => m.step)).toEqual([1, 2, 3, 4]);
  expect(readFileSync(path, "utf8")).toBe(text(range(4)));
  expect(notices).toEqual([
    `rho1 train: ${path}: dropped 3 lines after step 4, resuming from the checkpoint of step 4`,
  ]);
  // Nothing to drop: no notice, file untouched.
  notices.length = 0;
  expect(new MetricsLog(path).restore(4, (l) => notices.push(l))).toHaveLength(4);
  expect(notices).toEqual([]);
});

test("a file cut at any byte resumes to the lines that were whole (and at most the checkpoint's step)", () => {
  const path = join(work, "torn.jsonl");
  const full = text(range(6));
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const cuts = [0, 1, full.indexOf("\n"), full.indexOf("\n") + 1, full.length - 1, full.length];
  for (let i = 0; i < 40; i++) cuts.push(Math.floor(random() * full.length));
  for (const cut of cuts) {
    writeFileSync(path, full);
    truncateSync(path, cut);
    const whole = full.slice(0, cut).split("\n").length - 1; // lines ending before the cut
    const checkpoint = 4;
    const notices: string[] = [];
    const kept = new MetricsLog(path).restore(checkpoint, (l) => notices.push(l));
    const expected = range(Math.min(whole, checkpoint));
    expect(kept.map((m) => m.step)).toEqual(expected);
    expect(readFileSync(path, "utf8")).toBe(text(expected));
    const tornTail = !full.slice(0, cut).endsWith("\n") && cut > 0;
    expect(notices.length).toBe(tornTail || whole > checkpoint ? 1 : 0);
    if (tornTail) expect(notices[0]).toContain("dropped a torn last line");
  }
});

test("a damaged line before the last is an error naming the file and line, not silently dropped", () => {
  const path = join(work, "damaged.jsonl");
  writeFileSync(path, `${text([1])}{"step": 2, "lo\n${text([3])}`);
  let error: unknown;
  try {
    new MetricsLog(path).restore(3, () => {});
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TrainError);
  expect((error as TrainError).code).toBe("bad_metrics");
  expect((error as Error).message).toStartWith(`${path}:2: not a JSON line`);
});

const tmpfs = mountTmpfs(64 * 1024);

test.skipIf(tmpfs.dir === null)(
  "a disk that fills in the middle of a line: the error names the file and the log keeps only whole lines",
  () => {
    const dir = tmpfs.dir as string;
    const path = join(dir, "metrics.jsonl");
    const log = new MetricsLog(path);
    for (const step of range(15)) log.append(line(step));
    const before = readFileSync(path, "utf8");
    fillDisk(dir); // no page left: appends fill the file's last page, until one straddles its end
    expect(statSync(join(dir, "fill")).size).toBeGreaterThan(0);
    let error: unknown;
    let step = 16;
    try {
      for (; step < 40; step++) log.append(line(step));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).code).toBe("enospc");
    expect((error as Error).message).toStartWith(`${path}: cannot write (ENOSPC: wrote `);
    const after = readFileSync(path, "utf8");
    expect(after.startsWith(before)).toBe(true);
    expect(after.endsWith("\n")).toBe(true);
    expect(
      after
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).step),
    ).toEqual(range(step - 1));
    rmSync(join(dir, "fill"));
    log.append(line(step)); // space freed: the log continues where it stopped
    expect(new MetricsLog(path).restore(step, () => {}).map((m) => m.step)).toEqual(range(step));
  },
);
