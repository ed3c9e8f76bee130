/**
 * examples/slurm/score.sbatch on a real (one-node, localhost) Slurm: an array of 4 scoring tasks over a
 * multi-row-group parquet, merged, equals one `rho1 score` byte for byte; a task cancelled mid-shard and
 * resubmitted alone still merges to the same bytes. Skipped with the reason where slurm-wlm is missing (CI
 * installs it: .ci/run), and never skipped under CI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type OwmRow, readTextDocuments, writeOwmParquet } from "@rho1/reference-scorer";
import { type LocalSlurm, slurmUnavailable, startLocalSlurm } from "./local-cluster.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SBATCH = join(import.meta.dir, "score.sbatch");
const MODEL = join(ROOT, "models/stories260K");
const SCORE_ARGS = ["--seq-len", "64", "--batch-size", "4"];
const TASKS = 4;

const unavailable = slurmUnavailable();
if (unavailable && process.env.CI) throw new Error(`CI must run the Slurm test, but Slurm is ${unavailable}`);
if (unavailable) console.warn(`skipping the Slurm array test: ${unavailable}`);

let dir: string;
let data: string;
let single: string;
let slurm: LocalSlurm | undefined;
let jobEnv: Record<string, string | undefined>;

/** Every file under root (relative path -> bytes), for byte-identity checks between stores. */
function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of readdirSync(root, { recursive: true }) as string[]) {
    if (statSync(join(root, rel)).isFile()) out.set(rel, readFileSync(join(root, rel)));
  }
  return out;
}

function expectSameStore(actual: string, expected: string) {
  const a = tree(actual);
  const e = tree(expected);
  expect([...a.keys()].sort()).toEqual([...e.keys()].sort());
  for (const [rel, bytes] of e) expect({ rel, same: a.get(rel)?.equals(bytes) }).toEqual({ rel, same: true });
}

function rho1(args: string[]) {
  const proc = Bun.spawnSync(["bun", join(ROOT, "packages/cli/src/main.ts"), ...args], { stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`rho1 ${args.join(" ")}: ${proc.stderr.toString()}`);
  return proc.stdout.toString();
}

function logs(scratch: string): string {
  return readdirSync(scratch)
    .filter((f) => f.endsWith(".log"))
    .map((f) => `--- ${f}\n${readFileSync(join(scratch, f), "utf8").slice(-1500)}`)
    .join("\n");
}

/** sbatch the example over `scratch`; returns the job id. */
function submit(scratch: string, array: string, env: Record<string, string | undefined> = {}): string {
  if (!slurm) throw new Error("no cluster");
  const args = [
    "sbatch",
    "--parsable",
    `--array=${array}`,
    "--cpus-per-task=1",
    `--output=${scratch}/task-%a.log`,
  ];
  return slurm.run([...args, SBATCH, MODEL, data, scratch], { ...jobEnv, ...env }).trim();
}

beforeAll(async () => {
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), "rho1-slurm-"));
  const rows: OwmRow[] = [];
  for await (const doc of readTextDocuments(join(ROOT, "data/corpus/owm-sample.parquet"))) {
    rows.push({ url: `u${rows.length}`, text: (doc.text as string).slice(0, 600), date: "", metadata: "{}" });
  }
  data = join(dir, "corpus.parquet");
  await writeOwmParquet(rows.slice(0, 240), data, { codec: "ZSTD", rowGroupSize: 20 }); // 12 row groups
  single = join(dir, "single");
  rho1(["score", "--model", MODEL, "--data", data, "--out", single, ...SCORE_ARGS]);
  // The sbatch calls `rho1`: here the checkout's CLI, as `bun add -g rho1` puts it on a user's PATH.
  const bin = join(dir, "bin");
  mkdirSync(bin);
  // RHO1_TEST_FREEZE_TASK=i: task i stops itself (SIGSTOP) after committing its first unit, to be cancelled.
  writeFileSync(
    join(bin, "rho1"),
    `#!/bin/sh
if [ -n "$RHO1_TEST_FREEZE_TASK" ] && [ "$SLURM_ARRAY_TASK_ID" = "$RHO1_TEST_FREEZE_TASK" ]; then
  export RHO1_SCORE_KILL_AT=unit-done:1:SIGSTOP
fi
exec bun ${join(ROOT, "packages/cli/src/main.ts")} "$@"
`,
  );
  chmodSync(join(bin, "rho1"), 0o755);
  jobEnv = { PATH: `${bin}:${process.env.PATH}`, RHO1_SCORE_ARGS: SCORE_ARGS.join(" ") };
  slurm = await startLocalSlurm(join(dir, "cluster"));
}, 120_000);

afterAll(() => {
  slurm?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.skipIf(unavailable !== null)(
  "an sbatch array of 4 scoring tasks, merged, is byte-identical to one process",
  async () => {
    const scratch = join(dir, "array");
    mkdirSync(scratch);
    const job = submit(scratch, `0-${TASKS - 1}`);
    await slurm?.waitIdle(job, 180_000);
    const shards = Array.from({ length: TASKS }, (_, i) => join(scratch, `shard-${i}`));
    for (const [i, shard] of shards.entries()) {
      const manifest = JSON.parse(readFileSync(join(shard, "manifest.json"), "utf8"));
      expect({ task: i, shard: manifest.shard }).toEqual({ task: i, shard: { index: i, count: TASKS } });
    }
    const merged = join(dir, "merged");
    rho1(["score", "merge", ...shards, "--out", merged]);
    expectSameStore(merged, single);
  },
  240_000,
);

test.skipIf(unavailable !== null)(
  "a task cancelled mid-shard (scancel) and resubmitted alone still merges to the same bytes",
  async () => {
    const scratch = join(dir, "cancelled");
    mkdirSync(scratch);
    // Task 1 freezes itself right after committing its first unit, so scancel finds it mid-shard every time.
    const job = submit(scratch, `0-${TASKS - 1}`, { RHO1_TEST_FREEZE_TASK: "1" });
    const units = join(scratch, "shard-1/units");
    const deadline = Date.now() + 120_000;
    while (!(existsSync(units) && readdirSync(units).some((f) => f.endsWith(".bin")))) {
      if (Date.now() > deadline) throw new Error(`task 1 never committed a unit:\n${logs(scratch)}`);
      await Bun.sleep(100);
    }
    await Bun.sleep(300);
    slurm?.run(["scancel", `${job}_1`]);
    await slurm?.waitIdle(job, 180_000);
    expect(existsSync(join(scratch, "shard-1/manifest.json"))).toBe(false); // really cut short
    expect(readdirSync(units).filter((f) => f.endsWith(".bin")).length).toBeGreaterThan(0);

    const rerun = submit(scratch, "1", { SHARDS: String(TASKS) });
    await slurm?.waitIdle(rerun, 180_000);
    const merged = join(dir, "merged-after-cancel");
    try {
      rho1([
        "score",
        "merge",
        ...Array.from({ length: TASKS }, (_, i) => join(scratch, `shard-${i}`)),
        "--out",
        merged,
      ]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logs(scratch)}`);
    }
    expectSameStore(merged, single);
  },
  300_000,
);
