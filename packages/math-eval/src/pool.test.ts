import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GradingPool } from "./pool.ts";

const dir = mkdtempSync(join(tmpdir(), "rho1-pool-"));
// A worker that loops forever on the gold "HANG" and answers otherwise: stands in for a pathological item.
const hangWorker = join(dir, "hang-worker.ts");
writeFileSync(
  hangWorker,
  `import { parentPort } from "node:worker_threads";
parentPort.on("message", ({ id, pred, gold }) => { if (gold === "HANG") { for (;;) {} } parentPort.postMessage({ id, correct: pred === gold }); });
parentPort.postMessage({ ready: true });`,
);

const brokenWorker = join(dir, "broken-worker.ts");
writeFileSync(brokenWorker, `throw new Error("cannot load");`);

describe("GradingPool (3 s limit per item, counted as wrong)", () => {
  const pool = new GradingPool();
  afterAll(() => pool.close());

  test("grades through the worker with math_equal", async () => {
    expect(await pool.mathEqual("2500", "25")).toEqual({ correct: true, timedOut: false });
    expect(await pool.mathEqual("\\frac{1}{2}", "0.5")).toEqual({ correct: true, timedOut: false });
    expect(await pool.mathEqual(null, "5")).toEqual({ correct: false, timedOut: false });
  });

  test("an infinitely looping item times out, the worker is replaced, later items still grade", async () => {
    const hang = new GradingPool({ timeoutMs: 300, workerUrl: hangWorker });
    try {
      const [a, b, c] = await Promise.all([
        hang.mathEqual("1", "1"),
        hang.mathEqual("1", "HANG"),
        hang.mathEqual("7", "7"),
      ]);
      expect(a).toEqual({ correct: true, timedOut: false });
      expect(b).toEqual({ correct: false, timedOut: true });
      expect(c).toEqual({ correct: true, timedOut: false });
      expect(hang.restarts).toBe(1);
    } finally {
      hang.close();
    }
  });

  test("a worker that cannot start is an error, not a hang", async () => {
    const broken = new GradingPool({ timeoutMs: 300, workerUrl: brokenWorker });
    try {
      await expect(broken.mathEqual("1", "1")).rejects.toThrow(/grading worker failed/);
    } finally {
      broken.close();
    }
  });
});
