/**
 * Resumability: SIGKILL the scorer at many points (mid-batch, between temp write and rename, right after a
 * unit commit, around the manifest, and at arbitrary times), rerun the same command each time, and require
 * the final store to be byte-identical to an uninterrupted run's.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OwmRow, writeOwmParquet } from "./build-corpus.ts";
import { readTextDocuments } from "./input.ts";
import { treeDigest } from "./testing/tree.ts";

const ROOT = join(import.meta.dir, "../../..");
const CHILD = join(import.meta.dir, "testing/score-child.ts");
let dir: string;
let data: string[];
let expected: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rho1-kill-"));
  const rows: OwmRow[] = [];
  for await (const doc of readTextDocuments(join(ROOT, "data/corpus/owm-sample.parquet"))) {
    rows.push({ url: "", text: (doc.text as string).slice(0, 400), date: "", metadata: "{}" });
  }
  data = [join(dir, "a.parquet"), join(dir, "b.parquet")];
  await writeOwmParquet(rows.slice(0, 120), data[0], { codec: "ZSTD", rowGroupSize: 20 });
  await writeOwmParquet(rows.slice(120, 200), data[1], { codec: "SNAPPY", rowGroupSize: 20 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function spawnChild(outDir: string, opts: { killAt?: string; delayMs?: number } = {}) {
  const args = {
    modelDir: join(ROOT, "models/stories260K"),
    data,
    outDir,
    seqLen: 48,
    batchSize: 4,
    delayMs: opts.delayMs ?? 0,
  };
  const env: Record<string, string | undefined> = { ...process.env, RHO1_SCORE_KILL_AT: opts.killAt };
  return Bun.spawn(["bun", CHILD, JSON.stringify(args)], { env, stdout: "pipe", stderr: "pipe" });
}

async function runChild(
  outDir: string,
  opts: { killAt?: string; killAfterMs?: number; delayMs?: number } = {},
) {
  const child = spawnChild(outDir, opts);
  if (opts.killAfterMs !== undefined) setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
  await child.exited;
  return { code: child.exitCode, signal: child.signalCode, stderr: await new Response(child.stderr).text() };
}

test("killed at 8 points and rerun each time: the store equals an uninterrupted run's, byte for byte", async () => {
  const clean = join(dir, "clean");
  const ok = await runChild(clean);
  expect(ok.stderr).toBe("");
  expect(ok.code).toBe(0);
  expected = treeDigest(clean);
  expect(Object.keys(expected).length).toBe(1 + 10); // manifest + 10 row groups

  const out = join(dir, "killed");
  const points = [
    "batch:3",
    "unit-tmp:2",
    "unit-done:1",
    "batch:7",
    "unit-tmp:1",
    "manifest-tmp:1",
    "manifest-done:1",
  ];
  const committed: number[] = [];
  const temps: number[] = [];
  for (const killAt of points) {
    const r = await runChild(out, { killAt });
    expect(r.signal).toBe("SIGKILL");
    // Every rerun finds the lock of the run it follows, whose process is gone, and takes it over.
    if (killAt !== points[0])
      expect(r.stderr).toMatch(/taking over the lock of pid \d+ .* no longer running/);
    const names = await readdir(join(out, "units")).catch(() => [] as string[]);
    committed.push(names.filter((n) => n.endsWith(".bin")).length);
    temps.push(names.filter((n) => n.includes(".tmp-")).length);
  }
  // A unit holds ~30 batches: batch kills lose only the unit in flight; kills between temp write and rename
  // leave a temp file (removed by the next run); the manifest kills come after all 10 units are committed.
  expect(committed).toEqual([0, 1, 2, 2, 2, 10, 10]);
  expect(temps).toEqual([0, 1, 0, 0, 1, 0, 0]);
  expect(await Bun.file(join(out, "manifest.json")).exists()).toBe(true); // killed after the manifest rename
  expect(await Bun.file(join(out, "run.json")).exists()).toBe(true); // ... but before run.json was removed
  const final = await runChild(out);
  expect(final.code).toBe(0);
  expect(treeDigest(out)).toEqual(expected);

  // Time-based kills at arbitrary moments, with each batch stretched to 15 ms.
  const timed = join(dir, "timed");
  for (const ms of [350, 500, 650]) {
    const r = await runChild(timed, { killAfterMs: ms, delayMs: 15 });
    expect(r.signal).toBe("SIGKILL"); // ~4.5 s of work in all: every timed kill lands mid-run
  }
  expect((await runChild(timed)).code).toBe(0);
  expect(treeDigest(timed)).toEqual(expected);
}, 60_000);

test("two runs on one store at once: the second is refused naming the first, which finishes intact", async () => {
  const out = join(dir, "concurrent");
  const first = spawnChild(out, { delayMs: 15 });
  const lockFile = join(out, ".rho1.lock");
  while (!(await Bun.file(lockFile).exists())) await Bun.sleep(10);
  await Bun.sleep(200); // the first is now scoring its first unit, with a temp file to lose
  const second = await runChild(out);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`${out} is in use by pid ${first.pid} on `);
  await first.exited;
  expect(first.exitCode).toBe(0);
  expect(await new Response(first.stderr).text()).toBe("");
  expect(treeDigest(out)).toEqual(expected);
}, 60_000);
