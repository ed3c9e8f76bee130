/**
 * The CLI under misuse, as the stress test met it: a model with NaN weights (score, generate), stores edited after
 * scoring (train), empty input, and numeric flags out of range. Each is refused with one line naming what is wrong.
 */
import { beforeAll, expect, test } from "bun:test";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { openSafetensors, type TensorToWrite, writeSafetensors } from "@rho1/safetensors";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const work = tempDir("rho1-cli-misuse-");
const nanModel = join(work, "nan-model");
const corpus = join(work, "c.jsonl");
/** `rho1 train` arguments for one step of batch 2 on the corpus over the score store `store`. */
const oneStepOn = (store: string) => [
  "--model",
  STORIES,
  "--data",
  corpus,
  "--ref-scores",
  store,
  "--batch-size",
  "2",
  "--steps",
  "1",
];
const rho1 = (name: string, ...args: string[]) => {
  const r = cliCommand(name)(...args);
  // The backend notice is informational; everything else a refusal prints must be one line.
  const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("rho1: TensorFlow.js backend"));
  return { ...r, lines };
};

beforeAll(async () => {
  mkdirSync(nanModel);
  for (const f of readdirSync(STORIES))
    if (f !== "model.safetensors") copyFileSync(join(STORIES, f), join(nanModel, f));
  const file = openSafetensors(join(STORIES, "model.safetensors"));
  const tensors = new Map<string, TensorToWrite>();
  for (const name of file.names) {
    const data = Float32Array.from(file.readFloat32(name));
    if (name === "model.norm.weight") data.fill(Number.NaN);
    tensors.set(name, { dtype: "F32", shape: file.info(name).shape, data });
  }
  file.close();
  await writeSafetensors(join(nanModel, "model.safetensors"), tensors);
  const stories = [
    "Once upon a time, there was a little girl named Lily.",
    "Tom had a red ball.",
    null,
    "The sun was hot.",
  ];
  writeFileSync(
    corpus,
    `${Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: stories[i % 4] })).join("\n")}\n`,
  );
});

test("score with a NaN model fails on the first non-finite loss, naming unit and row; the store stays unfinished", () => {
  const out = join(work, "nan-store");
  const r = rho1("score", "--model", nanModel, "--data", corpus, "--out", out, "--seq-len", "16");
  expect(r.code).toBe(1);
  expect(r.lines.at(-1)).toMatch(
    new RegExp(
      `^rho1 score: ScoreError: ${corpus} \\(row group 0\\): reference loss NaN at packed row 0 of this unit, token 1: `,
    ),
  );
  expect(existsSync(join(out, "manifest.json"))).toBe(false);
}, 60_000);

test("train on a store holding a NaN loss (checksums updated to match) refuses it before step 1, verified or not", () => {
  // What a store scored by a NaN model used to hold (score now refuses to write one): before, train selected 60% of
  // tokens from NaN excess losses and exited 0.
  const store = join(work, "nan-loss-store");
  expect(rho1("score", "--model", STORIES, "--data", corpus, "--out", store, "--seq-len", "16").code).toBe(0);
  const unit = join(store, "units", readdirSync(join(store, "units"))[0] as string);
  const bytes = readFileSync(unit);
  const rows = bytes.readUInt32LE(16);
  const lossOffset = Math.ceil((64 + 4 * rows * 16) / 8) * 8;
  bytes.writeFloatLE(Number.NaN, lossOffset + 4 * (15 + 2)); // row 1, token 3
  writeFileSync(unit, bytes);
  const manifest = JSON.parse(readFileSync(join(store, "manifest.json"), "utf8"));
  manifest.units[0].sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  writeFileSync(join(store, "manifest.json"), JSON.stringify(manifest));
  const args = oneStepOn(store);
  for (const extra of [[], ["--no-verify"]]) {
    const out = join(work, `nan-train${extra.length}`);
    const r = rho1("train", ...args, "--out", out, ...extra);
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toBe(
      `rho1 train: ScoreError: ${unit}: reference loss NaN at packed row 1, token 3: this store cannot be trained on; rescore it`,
    );
    expect(existsSync(join(out, "metrics.jsonl"))).toBe(false);
  }
}, 60_000);

test("generate with a NaN model stops with a typed error instead of printing token 0", () => {
  const r = rho1("generate", "--model", nanModel, "--input-ids", "[1, 403]", "--json");
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.lines).toEqual([
    "rho1 generate: NonFiniteLogitsError: the model's logits are not finite (NaN or Inf) for prompt 0 at new token 1: check its weights",
  ]);
}, 60_000);

test("train on a store edited after scoring is refused before step 1; --no-verify trusts it", () => {
  const store = join(work, "store");
  expect(rho1("score", "--model", STORIES, "--data", corpus, "--out", store, "--seq-len", "16").code).toBe(0);
  const unit = join(store, "units", readdirSync(join(store, "units"))[0]);
  const fd = openSync(unit, "r+");
  writeSync(fd, new Uint8Array(new Float32Array([9, 9, 9]).buffer), 0, 12, 64 + 4 * 16 * 4); // edited in place
  closeSync(fd);
  const args = oneStepOn(store);
  const refused = rho1("train", ...args, "--out", join(work, "t1"));
  expect(refused.code).toBe(1);
  expect(refused.lines).toEqual([
    expect.stringMatching(
      new RegExp(`^rho1 train: ScoreError: ${unit}: unit checksum [0-9a-f]{16}… does not match`),
    ),
  ]);
  expect(existsSync(join(work, "t1", "metrics.jsonl"))).toBe(false);
  const trusted = rho1("train", ...args, "--out", join(work, "t2"), "--no-verify");
  expect(trusted.code).toBe(0);
}, 60_000);

test("an empty corpus is 'no documents in …' for score and train; null texts are skipped and counted by both", () => {
  const empty = join(work, "empty.jsonl");
  writeFileSync(empty, "");
  const s = rho1(
    "score",
    "--model",
    STORIES,
    "--data",
    empty,
    "--out",
    join(work, "s-empty"),
    "--seq-len",
    "16",
  );
  expect(s.code).toBe(1);
  expect(s.lines.at(-1)).toBe(
    `rho1 score: ScoreError: no documents in ${empty} (empty files, or only empty or null texts)`,
  );
  const t = rho1(
    "train",
    "--model",
    STORIES,
    "--data",
    empty,
    "--out",
    join(work, "t-empty"),
    "--steps",
    "1",
  );
  expect(t.code).toBe(1);
  expect(t.lines).toEqual([
    `rho1 train: TrainError: no documents in ${empty} (empty files, or only empty or null texts)`,
  ]);
  expect(existsSync(join(work, "t-empty", "metrics.jsonl"))).toBe(false); // no step ran

  const scored = rho1(
    "score",
    "--model",
    STORIES,
    "--data",
    corpus,
    "--out",
    join(work, "s-null"),
    "--seq-len",
    "16",
  );
  expect(JSON.parse(scored.stdout).skippedDocuments).toBe(6);
  const trained = rho1(
    "train",
    "--model",
    STORIES,
    "--data",
    corpus,
    "--out",
    join(work, "t-null"),
    "--steps",
    "1",
    "--seq-len",
    "16",
  );
  expect(trained.code).toBe(0);
  expect(trained.stderr).toContain("rho1 train: skipped 6 documents with an empty or null text");
}, 60_000);

test("numeric flags out of range are one-line usage errors (exit 2); a huge --max-new-tokens stops at the context", () => {
  const huge = rho1("generate", "--input-ids", "[1, 403]", "--max-new-tokens", "1e9", "--json");
  expect(huge.code).toBe(0);
  expect(JSON.parse(huge.stdout).ids.length).toBeLessThanOrEqual(510);
  expect(huge.stderr).toContain("stopped at the model's context of 512 positions");
  for (const [name, args, message] of [
    ["generate", ["--max-new-tokens", "-5"], '--max-new-tokens expects an integer >= 0, found "-5"'],
    ["generate", ["--seed", "-1"], '--seed expects an integer in [0, 4294967295], found "-1"'],
    ["generate", ["--top-p", "0"], '--top-p expects a number in (0, 1], found "0"'],
    ["train", ["--steps", "1e300"], '--steps expects an integer >= 1, found "1e300"'],
    ["train", ["--lr", "-1"], '--lr expects a number >= 0, found "-1"'],
    ["score", ["--batch-size", "-2"], '--batch-size expects an integer >= 1, found "-2"'],
  ] as const) {
    const base =
      name === "generate"
        ? ["--input-ids", "[1, 403]"]
        : ["--model", STORIES, "--data", corpus, "--out", join(work, "never")];
    const r = rho1(name, ...base, ...args);
    expect({ code: r.code, lines: r.lines }).toEqual({ code: 2, lines: [`rho1 ${name}: ${message}`] });
  }
}, 60_000);
