import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkpointPositions } from "./analyze.ts";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const tmp = tempDir("rho1-analyze-cli-");
const rho1 = cliCommand("analyze");
const docs = join(tmp, "docs.jsonl");
writeFileSync(
  docs,
  [
    "Tom had 3 apples and ate one. How many apples does Tom have now? Tom has 2 apples.",
    "The cat sat on the mat and looked at the big red ball for a long time.",
    "Lily saw a big red ball. She ran to it and picked it up. She was very happy.",
    "1 + 1 = 2, 2 + 2 = 4, 3 + 3 = 6, 4 + 4 = 8.",
  ]
    .map((text) => JSON.stringify({ text }))
    .join("\n"),
);
const store = join(tmp, "store");
const run = join(tmp, "run");

test("checkpoint positions: steps of checkpoint-N folders, the base first at 0, else the order", () => {
  expect(checkpointPositions(["base", "r/checkpoint-000010", "r/checkpoint-000020/"])).toEqual({
    x: [0, 10, 20],
    label: "training step",
  });
  expect(checkpointPositions(["a", "b", "c"])).toEqual({ x: [0, 1, 2], label: "checkpoint" });
  expect(checkpointPositions(["r/checkpoint-5", "s/checkpoint-5"]).x).toEqual([0, 1]);
});

test("categories and selected/unselected over a base and a trained checkpoint; summary, page", () => {
  expect(
    cliCommand("score")("--model", STORIES, "--data", docs, "--out", store, "--seq-len", "32").code,
  ).toBe(0);
  const train = cliCommand("train")(
    "--model",
    STORIES,
    "--data",
    docs,
    "--seq-len",
    "32",
    "--batch-size",
    "2",
    "--steps",
    "3",
    "--lr",
    "5e-3",
    "--out",
    run,
  );
  expect(train.code).toBe(0);
  const checkpoint = join(
    run,
    readdirSync(run)
      .filter((n) => n.startsWith("checkpoint-"))
      .sort()
      .at(-1) as string,
  );
  const out = join(tmp, "analysis");
  const r = rho1(
    "--scores",
    store,
    "--models",
    `${STORIES},${checkpoint}`,
    "--out",
    out,
    "--sequences",
    "4",
    "--docs",
    "2",
  );
  expect(r.stderr).toContain("wrote");
  expect(r.code).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  expect(summary.x).toEqual([0, 3]);
  const counts = summary.categories.counts;
  expect(counts["H→H"] + counts["L→H"] + counts["H→L"] + counts["L→L"]).toBe(summary.tokens);
  expect(summary.tokens).toBeGreaterThan(50);
  // The store was scored by the base itself: at checkpoint 0 every loss equals its reference loss.
  expect(summary.selection[0].meanLoss).toBeCloseTo(summary.meanRefLoss, 5);
  expect(summary.selection[0].selectedTokens).toBe(Math.floor(0.6 * summary.tokens));
  // Three steps at lr 5e-3 on these very texts lower their loss: the learned category dominates.
  expect(summary.selection[1].meanLoss).toBeLessThan(summary.selection[0].meanLoss);
  expect(summary.categories.shares["H→L"]).toBeGreaterThan(summary.categories.shares["L→H"]);
  const html = readFileSync(join(out, "analysis.html"), "utf8");
  expect(html).toContain("Loss per token category");
  expect(html).toContain("Selected vs unselected tokens");
  expect(html).toContain("category H→L");

  const one = rho1("--scores", store, "--models", STORIES, "--out", join(tmp, "one"), "--sequences", "2");
  expect(one.code).toBe(0);
  expect(JSON.parse(readFileSync(join(tmp, "one", "summary.json"), "utf8")).categories).toBeNull();
}, 120_000);

test("usage errors exit 2", () => {
  for (const [args, message] of [
    [["--scores", store, "--out", tmp], /missing required option --models/],
    [["--scores", store, "--models", STORIES, "--ratio", "2", "--out", tmp], /--ratio expects a number/],
    [
      ["--scores", store, "--models", STORIES, "--sequences", "0", "--out", tmp],
      /--sequences expects an integer/,
    ],
  ] as [string[], RegExp][]) {
    const r = rho1(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  }
  // Bad input: no score store at --scores.
  expect(rho1("--scores", join(tmp, "no-store"), "--models", STORIES, "--out", tmp).code).toBe(1);
}, 60_000);
