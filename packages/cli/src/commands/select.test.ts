import { expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { planInputs, readUnitRecords } from "@rho1/reference-scorer";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const tmp = tempDir("rho1-select-cli-");
const rho1 = cliCommand("select");
const score = cliCommand("score");

const docs = join(tmp, "docs.jsonl");
writeFileSync(
  docs,
  [
    { text: "Tom had 3 apples and ate one.", url: "a" },
    { text: "", url: "empty" },
    { text: "The cat sat on the mat.", url: "b", extra: { k: 1 } },
    { text: "Lily saw a big red ball.", url: "c" },
  ]
    .map((r) => JSON.stringify(r))
    .join("\n"),
);
const store = join(tmp, "store");

test("self-reference with the embedded model: a warning, every excess exactly 0, records kept", async () => {
  expect(score("--model", STORIES, "--data", docs, "--out", store, "--seq-len", "16").code).toBe(0);
  const out = join(tmp, "kept.parquet");
  const r = rho1("--scores", store, "--model", STORIES, "--ratio", "1", "--out", out);
  expect(r.stderr).toContain("is the model that scored");
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout);
  expect(summary).toMatchObject({ documents: 3, keptDocuments: 3, tokenThreshold: 0 });
  expect(existsSync(`${out}.model-scores/manifest.json`)).toBe(true);
  const [file] = await planInputs([out]);
  const rows = (await Promise.all(file.units.map((u) => readUnitRecords(file, u)))).flat();
  expect(rows.map((x) => [x.url, x.text, x.rho1_excess])).toEqual([
    ["a", "Tom had 3 apples and ate one.", 0],
    ["b", "The cat sat on the mat.", 0],
    ["c", "Lily saw a big red ball.", 0],
  ]);
  expect(rows[1].metadata).toBeNull(); // JSON lines without the field: null, not invented
}, 60_000);

test("usage errors exit 2 with one line", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--scores", store, "--model", STORIES, "--ratio", "0", "--out", "x.parquet"],
      /--ratio expects a number/,
    ],
    [
      ["--scores", store, "--model", STORIES, "--ratio", "1.5", "--out", "x.parquet"],
      /--ratio expects a number/,
    ],
    [
      ["--scores", store, "--model", STORIES, "--ratio", "0.5", "--threshold", "1", "--out", "x.parquet"],
      /exactly one of --ratio and --threshold/,
    ],
    [
      ["--scores", store, "--ratio", "0.5", "--out", "x.parquet"],
      /exactly one of --model and --model-scores/,
    ],
    [
      ["--scores", store, "--model", STORIES, "--ratio", "0.5", "--by", "median", "--out", "x.parquet"],
      /--by expects mean, sum, fraction-selected/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = rho1(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n").length).toBe(1);
  }
  const missing = rho1(
    "--scores",
    join(tmp, "nowhere"),
    "--model-scores",
    store,
    "--ratio",
    "0.5",
    "--out",
    join(tmp, "y.parquet"),
  );
  expect(missing.code).toBe(1);
  expect(existsSync(join(tmp, "y.parquet"))).toBe(false);
}, 60_000);
