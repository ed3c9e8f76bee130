/**
 * `rho1 train` under faults and misuse, as an operator meets them: a second run on the same --out, SIGKILL then a
 * rerun, and a disk that fills up during a checkpoint. Each time the run must refuse clearly or continue to the same
 * losses, log and weights as an uninterrupted run.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fillDisk, mountTmpfs } from "../../../train/src/testing/tmpfs.ts";
import { ROOT, STORIES, tempDir } from "./test-support.ts";

const work = tempDir("rho1-train-faults-");
const data = join(work, "d.jsonl");
const stories = [
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
  "Tom had a red ball. He liked to throw it to his dog, Max. Max was very happy.",
  "One day, a big bird flew into the garden. The bird was looking for food.",
];
writeFileSync(
  data,
  `${Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: stories[i % 3] })).join("\n")}\n`,
);

const trainArgs = (out: string, steps: number, extra: string[] = []) => [
  "bun",
  "packages/cli/src/main.ts",
  "train",
  "--model",
  STORIES,
  "--data",
  data,
  "--out",
  out,
  "--seq-len",
  "16",
  "--batch-size",
  "2",
  "--lr",
  "3e-3",
  "--steps",
  String(steps),
  ...extra,
];
const spawnTrain = (out: string, steps: number, extra: string[] = []) =>
  Bun.spawn(trainArgs(out, steps, extra), { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
async function runTrain(out: string, steps: number, extra: string[] = []) {
  const p = spawnTrain(out, steps, extra);
  await p.exited;
  return { code: p.exitCode, signal: p.signalCode, stderr: await new Response(p.stderr).text() };
}

/** metrics.jsonl without the one field that depends on wall time. */
const metricsOf = (out: string) =>
  readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const { tokens_per_s, ...rest } = JSON.parse(l);
      return rest;
    });
const file = (path: string) => new Uint8Array(readFileSync(path));
const waitFor = async (path: string) => {
  while (!existsSync(path)) await Bun.sleep(5);
};

let reference: string | undefined;
/** An uninterrupted 12-step run (checkpoints every 3), made once. */
async function uninterrupted(): Promise<string> {
  if (reference) return reference;
  const out = join(work, "reference");
  const r = await runTrain(out, 12, ["--save-every", "3"]);
  expect(r.code).toBe(0);
  reference = out;
  return out;
}

test("two runs on one --out: the second is refused with one line naming the first; the log has each step once", async () => {
  const out = join(work, "twice");
  const first = spawnTrain(out, 150);
  await waitFor(join(out, "metrics.jsonl")); // the first is training
  const second = await runTrain(out, 150);
  expect(second.code).toBe(1);
  const lines = second.stderr
    .trim()
    .split("\n")
    .filter((l) => !l.startsWith("rho1: TensorFlow.js backend"));
  expect(lines).toEqual([
    expect.stringMatching(
      new RegExp(
        `^rho1 train: OutputLockedError: ${out} is in use by pid ${first.pid} on .* \\(rho1 train\\); wait for it`,
      ),
    ),
  ]);
  await first.exited;
  expect(first.exitCode).toBe(0);
  expect(metricsOf(out).map((m) => m.step)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  expect(existsSync(join(out, ".rho1.lock"))).toBe(false);
}, 120_000);

test("SIGKILL mid-run, then --resume: the lock is taken over and the run ends as an uninterrupted one", async () => {
  const expected = await uninterrupted();
  const out = join(work, "killed");
  const victim = spawnTrain(out, 12, ["--save-every", "3"]);
  await waitFor(join(out, "checkpoint-6", "trainer_state.json"));
  victim.kill("SIGKILL");
  await victim.exited;
  expect(existsSync(join(out, ".rho1.lock"))).toBe(true); // left behind by the killed run
  const rerun = await runTrain(out, 12, ["--save-every", "3", "--resume"]);
  expect(rerun.code).toBe(0);
  expect(rerun.stderr).toMatch(
    new RegExp(`taking over the lock of pid ${victim.pid} .* which is no longer running`),
  );
  expect(metricsOf(out)).toEqual(metricsOf(expected));
  const weights = "checkpoint-12/model.safetensors";
  expect(file(join(out, weights))).toEqual(file(join(expected, weights)));
  expect(readdirSync(out).filter((n) => n.includes(".tmp-") || n.startsWith(".rho1"))).toEqual([]);
}, 120_000);

const tmpfs = mountTmpfs(16 * 1024 * 1024);

test.skipIf(tmpfs.dir === null)(
  "the disk fills during a checkpoint: the error names the file, nothing half-written stays, --resume finishes",
  async () => {
    const expected = await uninterrupted();
    const dir = tmpfs.dir as string;
    const checkpointBytes = readdirSync(join(expected, "checkpoint-3")).reduce(
      (sum, n) => sum + Math.ceil(statSync(join(expected, "checkpoint-3", n)).size / 4096 + 1) * 4096,
      0,
    );
    // Room for the first checkpoint and half of the second.
    fillDisk(dir);
    rmSync(join(dir, "fill"));
    const filler = join(dir, "fill");
    const free = 16 * 1024 * 1024;
    writeFileSync(filler, new Uint8Array(free - Math.round(checkpointBytes * 1.5) - 64 * 1024));
    const out = join(dir, "out");
    const full = await runTrain(out, 12, ["--save-every", "3"]);
    expect(full.code).toBe(1);
    // The last line names the file that could not be written, inside the half-written checkpoint.
    expect(full.stderr.trim().split("\n").at(-1)).toMatch(
      new RegExp(`^rho1 train: \\w+Error: ${out}/\\.tmp-checkpoint-6-\\d+/[\\w.]+: .*ENOSPC`),
    );
    // The failed save removed its own temp folder; the lock went with the process's exit.
    expect(readdirSync(out).sort()).toEqual([
      "args.json",
      "checkpoint-3",
      "loss-curves.html",
      "metrics.jsonl",
    ]);
    rmSync(filler);
    const resumed = await runTrain(out, 12, ["--save-every", "3", "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("dropped 3 lines after step 3");
    expect(metricsOf(out)).toEqual(metricsOf(expected));
    const weights = "checkpoint-12/model.safetensors";
    expect(file(join(out, weights))).toEqual(file(join(expected, weights)));
  },
  120_000,
);
