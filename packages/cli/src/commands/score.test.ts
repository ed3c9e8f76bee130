import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ScoreStore } from "@rho1/reference-scorer";
import { shardFromEnvironment } from "./score.ts";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const tmp = tempDir("rho1-score-cli-");

const rho1 = cliCommand("score");

const docs = join(tmp, "docs.jsonl");
writeFileSync(
  docs,
  ["Tom had 3 apples and ate one.", "", "The cat sat on the mat.", "Lily saw a big red ball."]
    .map((text) => JSON.stringify({ text }))
    .join("\n"),
);

/** `rho1 score` of the test corpus into `out` with small rows and batches, plus `extra` options. */
const scoreInto = (out: string, ...extra: string[]) =>
  rho1("--model", STORIES, "--data", docs, "--out", out, "--seq-len", "16", "--batch-size", "2", ...extra);

test("scores a corpus, resumes as a no-op, and shards merge into the same store", () => {
  const out = join(tmp, "store");
  const r = scoreInto(out);
  expect(r.code).toBe(0);
  const line = JSON.parse(r.stdout);
  expect(line).toMatchObject({ out, shard: null, units: 1, documents: 3, skippedDocuments: 1 });
  expect(r.stderr).toContain("score: unit 1/1  docs 3");
  const store = ScoreStore.open(out);
  expect(store.numSequences).toBe(line.sequences);
  expect(store.sequence(0).ids[0]).toBe(1); // BOS at the document start

  const again = scoreInto(out);
  expect(again.stdout).toBe(r.stdout);

  // One unit only: shard 0/2 gets it, shard 1/2 is empty; merged they equal the single run.
  const s0 = join(tmp, "s0");
  const s1 = join(tmp, "s1");
  for (const [i, d] of [
    [0, s0],
    [1, s1],
  ] as const) {
    expect(scoreInto(d, "--shard", `${i}/2`).code).toBe(0);
  }
  const merged = join(tmp, "merged");
  const m = rho1("merge", s1, s0, "--out", merged);
  expect(m.code).toBe(0);
  const read = (d: string, f: string) => readFileSync(join(d, f));
  expect(read(merged, "manifest.json").equals(read(out, "manifest.json"))).toBe(true);
  expect(read(merged, "units/00000-000000.bin").equals(read(out, "units/00000-000000.bin"))).toBe(true);
  expect(JSON.parse(m.stdout).sequences).toBe(line.sequences);
}, 60_000);

test("usage errors exit 2 with one line; bad input exits 1 naming the file", () => {
  expect(rho1("--data", docs, "--out", "x").stderr).toBe("rho1 score: missing required option --model\n");
  const shard = rho1("--model", STORIES, "--data", docs, "--out", "x", "--shard", "2/2");
  expect(shard.code).toBe(2);
  expect(shard.stderr).toContain("--shard expects i/n");
  expect(rho1("--model", STORIES, "--data", docs, "--out", "x", "--loss-dtype", "bf16").code).toBe(2);
  const bad = join(tmp, "bad.jsonl");
  writeFileSync(bad, '{"body": "no text field"}\n');
  const r = rho1("--model", STORIES, "--data", bad, "--out", join(tmp, "bad-out"), "--seq-len", "16");
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`ScoreError: ${bad}: line 1 has no field 'text'`);
});

test("score export writes the store as parquet; a bad --format is a usage error", () => {
  const out = join(tmp, "export-store");
  expect(scoreInto(out).code).toBe(0);
  const file = join(tmp, "export.parquet");
  const r = rho1("export", "--scores", out, "--format", "parquet", "--out", file);
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout);
  expect(summary).toMatchObject({ out: file, sequences: ScoreStore.open(out).numSequences, rowGroups: 1 });
  expect(readFileSync(file).subarray(0, 4).toString()).toBe("PAR1");
  const bad = rho1("export", "--scores", out, "--format", "csv", "--out", file);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--format expects parquet");
  const missing = rho1("export", "--scores", join(tmp, "nowhere"), "--out", file);
  expect(missing.code).toBe(1);
});

test("--shard auto reads the shard from a Slurm array or a Kubernetes indexed Job", () => {
  const slurm = { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "0" };
  expect(
    shardFromEnvironment({ ...slurm, SLURM_ARRAY_TASK_MAX: "3", SLURM_ARRAY_TASK_STEP: "1" }, undefined),
  ).toEqual({
    index: 2,
    count: 4,
  });
  // One task resubmitted alone (`sbatch --array=2`): the array says 1 task, --shards says 4.
  const rerun = {
    SLURM_ARRAY_TASK_ID: "2",
    SLURM_ARRAY_TASK_COUNT: "1",
    SLURM_ARRAY_TASK_MIN: "2",
    SLURM_ARRAY_TASK_MAX: "2",
  };
  expect(() => shardFromEnvironment(rerun, undefined)).toThrow(
    "must be 0-0 to give the shard count, found 2-2:1",
  );
  expect(shardFromEnvironment(rerun, 4)).toEqual({ index: 2, count: 4 });
  expect(() => shardFromEnvironment(rerun, 2)).toThrow("SLURM_ARRAY_TASK_ID=2 with --shards 2");
  expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: "0" }, 3)).toEqual({ index: 0, count: 3 });
  expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: "0" }, undefined)).toThrow("needs --shards N");
  expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: "x" }, 3)).toThrow(
    'JOB_COMPLETION_INDEX expects an integer, found "x"',
  );
  expect(() => shardFromEnvironment({}, 3)).toThrow("--shard auto found no job engine");
});

test("--shard auto on the command line: the engine's variables pick the shard; --shards alone is refused", () => {
  // This test may itself run inside a Slurm job: the child sees only the engine variables given here.
  const engineFree = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("SLURM_") && k !== "JOB_COMPLETION_INDEX"),
  );
  const run = (env: Record<string, string>, ...extra: string[]) =>
    Bun.spawnSync(
      ["bun", "packages/cli/src/main.ts", "score", "--model", STORIES, "--data", docs, ...extra],
      {
        cwd: join(import.meta.dir, "../../../.."),
        env: { ...engineFree, ...env },
      },
    );
  const out = join(tmp, "auto");
  const r = run(
    { JOB_COMPLETION_INDEX: "1" },
    "--out",
    out,
    "--seq-len",
    "16",
    "--shard",
    "auto",
    "--shards",
    "2",
  );
  expect(r.exitCode).toBe(0);
  expect(JSON.parse(r.stdout.toString())).toMatchObject({ out, shard: "1/2" });
  const none = run({}, "--out", join(tmp, "none"), "--shard", "auto");
  expect(none.exitCode).toBe(2);
  expect(none.stderr.toString()).toContain("--shard auto found no job engine");
  const alone = run({}, "--out", join(tmp, "alone"), "--shards", "2");
  expect(alone.stderr.toString()).toBe("rho1 score: --shards goes with --shard auto\n");
}, 60_000);
