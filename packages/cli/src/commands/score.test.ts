import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ScoreStore } from "@rho1/reference-scorer";
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
