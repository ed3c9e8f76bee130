import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliCommand, tempDir } from "./test-support.ts";

const work = tempDir("rho1-cli-train-");

const rho1 = cliCommand("train");

const data = join(work, "d.jsonl");
writeFileSync(
  data,
  '{"text": "Once upon a time, there was a little girl named Lily."}\n{"text": "Tom had a red ball."}\n',
);

test("plain causal-LM run on the embedded model writes checkpoints, metrics and the loss page", () => {
  const out = join(work, "out");
  const r = rho1(
    "--model",
    "models/stories260K",
    "--data",
    data,
    "--out",
    out,
    "--seq-len",
    "16",
    "--batch-size",
    "2",
    "--steps",
    "2",
  );
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("step 2/2");
  expect(r.stderr).toMatch(/rho1 train: 2 steps \(from 0\), final loss \d+\.\d+/);
  const lines = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines.map((m) => m.step)).toEqual([1, 2]);
  expect(existsSync(join(out, "checkpoint-000002", "model.safetensors"))).toBe(true);
  expect(existsSync(join(out, "loss-curves.html"))).toBe(true);
}, 60_000);

test("usage errors exit 2 with one line", () => {
  for (const [args, message] of [
    [["--data", data, "--out", "x"], /missing required option --model/],
    [["--model", "m", "--out", "x"], /missing required option --data/],
    [
      ["--model", "m", "--data", data, "--out", "x", "--select-ratio", "0.5"],
      /needs --ref-scores or --ref-model/,
    ],
    [
      ["--model", "m", "--data", data, "--out", "x", "--select-scope", "row"],
      /--select-scope expects batch or sequence/,
    ],
    [
      ["--model", "m", "--data", data, "--out", "x", "--batch-size", "0"],
      /--batch-size expects an integer >= 1/,
    ],
    [["--model", "m", "--data", data, "--out", "x", "--ref-scores", "a", "--ref-model", "b"], /not both/],
    [
      ["--model", "m", "--data", data, "--out", "x", "--weight-decay-exclude", "norms,layernorm"],
      /--weight-decay-exclude expects a comma-separated subset of norms,embeddings,bias, found "layernorm"/,
    ],
  ] as const) {
    const r = rho1(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }
});
