import { afterAll, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { LOCK_FILE, lockOutput, OutputLockedError, removeStaleTemps, tempOwner } from "./output-lock.ts";

const work = mkdtempSync(join(tmpdir(), "rho1-lock-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const p = Bun.spawnSync(["true"]);
  return p.pid;
}

test("the lock file names its holder; a second taker is refused with one line naming it; release removes it", () => {
  const dir = join(work, "a");
  const lock = lockOutput(dir, "rho1 test");
  const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"));
  expect(holder).toMatchObject({ pid: process.pid, host: hostname(), command: "rho1 test" });
  let error: unknown;
  try {
    lockOutput(dir, "rho1 other");
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OutputLockedError);
  expect((error as Error).message).toBe(
    `${dir} is in use by pid ${process.pid} on ${hostname()} (rho1 test); wait for it to finish or use another output folder`,
  );
  lock.release();
  expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  lock.release(); // twice is harmless
  lockOutput(dir, "again").release();
});

test("a folder the lock created is removed again when nothing was written into it", () => {
  const dir = join(work, "fresh", "out");
  lockOutput(dir, "t").release();
  expect(existsSync(dir)).toBe(false);
  const kept = join(work, "kept");
  const lock = lockOutput(kept, "t");
  writeFileSync(join(kept, "x"), "1");
  lock.release();
  expect(readdirSync(kept)).toEqual(["x"]);
});

test("a lock left by a dead process on this host is taken over with a notice", () => {
  const dir = join(work, "stale");
  mkdirSync(dir);
  const pid = deadPid();
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid, host: hostname(), start: 1, command: "rho1 score" }),
  );
  const notices: string[] = [];
  const lock = lockOutput(dir, "rho1 score", (l) => notices.push(l));
  expect(notices).toEqual([
    `rho1: taking over the lock of pid ${pid} on ${hostname()} (rho1 score), which is no longer running (${join(dir, LOCK_FILE)})`,
  ]);
  expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
  expect(readdirSync(dir)).toEqual([LOCK_FILE]); // the stale file moved aside is gone
  lock.release();
});

test("a live pid whose start time differs (pid reused) is stale; another host's lock is never taken", () => {
  const dir = join(work, "reused");
  mkdirSync(dir);
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: process.ppid, host: hostname(), start: 1, command: "x" }),
  );
  const notices: string[] = [];
  lockOutput(dir, "t", (l) => notices.push(l)).release();
  expect(notices).toHaveLength(1);

  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: deadPid(), host: "node-17", start: 5, command: "rho1 train" }),
  );
  expect(() => lockOutput(dir, "t")).toThrow(
    /is in use by pid \d+ on node-17 \(rho1 train\); if that run is gone, delete/,
  );
});

test("of eight processes racing for one folder, exactly one gets the lock", async () => {
  const dir = join(work, "race");
  const results = join(work, "race-results");
  mkdirSync(dir);
  mkdirSync(results);
  // Each child tries once at the agreed moment and records the outcome; the winner holds the lock until all eight
  // have tried (so a slow starter cannot find it already released).
  const script = `
    const { readdirSync, writeFileSync } = await import("node:fs");
    const { lockOutput } = await import(${JSON.stringify(join(import.meta.dir, "output-lock.ts"))});
    const start = Number(process.env.RACE_START);
    while (Date.now() < start) {}
    let outcome;
    try { lockOutput(process.env.RACE_DIR, "race"); outcome = "won"; } catch (e) { outcome = e.name; }
    writeFileSync(process.env.RACE_RESULTS + "/" + process.pid, outcome);
    if (outcome === "won") while (readdirSync(process.env.RACE_RESULTS).length < 8) Bun.sleepSync(5);`;
  const start = Date.now() + 1000;
  const children = Array.from({ length: 8 }, () =>
    Bun.spawn(["bun", "-e", script], {
      env: { ...process.env, RACE_START: String(start), RACE_DIR: dir, RACE_RESULTS: results },
      stderr: "inherit",
    }),
  );
  await Promise.all(children.map((c) => c.exited));
  const outcomes = readdirSync(results).map((n) => readFileSync(join(results, n), "utf8"));
  expect(outcomes.filter((o) => o === "won")).toHaveLength(1);
  expect(outcomes.filter((o) => o === "OutputLockedError")).toHaveLength(7);
  expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // released at the winner's exit
}, 30_000);

test("temp files are removed only when their maker is gone; a half-replaced folder is restored", () => {
  const dir = join(work, "temps");
  mkdirSync(dir);
  const dead = deadPid();
  const names = {
    mine: `u.bin.tmp-${process.pid}`,
    live: `u2.bin.tmp-${process.ppid}`,
    deadFile: `u3.bin.tmp-${dead}`,
    deadFolder: `.tmp-checkpoint-000004-${dead}`,
    orphanOld: `checkpoint-000002.old-${dead}`,
    replacedOld: `checkpoint-000003.old-${dead}`,
  };
  for (const n of [names.mine, names.live, names.deadFile]) writeFileSync(join(dir, n), "x");
  for (const n of [names.deadFolder, names.orphanOld, names.replacedOld, "checkpoint-000003"]) {
    mkdirSync(join(dir, n));
    writeFileSync(join(dir, n, "f"), n);
  }
  expect(tempOwner(names.deadFolder)).toBe(dead);
  expect(tempOwner("checkpoint-000004")).toBeNull();
  expect(removeStaleTemps(dir).sort()).toEqual(
    [names.deadFile, names.deadFolder, names.orphanOld, names.replacedOld].sort(),
  );
  expect(readdirSync(dir).sort()).toEqual(
    ["checkpoint-000002", "checkpoint-000003", names.live, names.mine].sort(),
  );
  expect(readFileSync(join(dir, "checkpoint-000002", "f"), "utf8")).toBe(names.orphanOld);
  expect(readFileSync(join(dir, "checkpoint-000003", "f"), "utf8")).toBe("checkpoint-000003");
});
