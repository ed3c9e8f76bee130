import { expect, test } from "bun:test";
import { cliCommand } from "./test-support.ts";

const rho1 = cliCommand("generate");

// transformers' greedy continuation of this prompt with the embedded stories260K (fixtures/models/stories260K.expected.json).
const GREEDY =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it,";

test("greedy by default on the embedded model: the transformers text", () => {
  const r = rho1("--prompt", "Once upon a time", "--max-new-tokens", "48");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${GREEDY}\n`);
  expect(r.stderr.trim().split("\n")).toHaveLength(1); // the backend notice only
});

test("--json with --input-ids, batched rows and --stop", () => {
  const r = rho1(
    "--input-ids",
    "[[1, 403, 407, 261, 378], [1, 291]]",
    "--json",
    "--stop",
    "Lily",
    "--max-new-tokens",
    "30",
  );
  expect(r.code).toBe(0);
  const [a, b] = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(a.text).toBe(", there was a little girl named ");
  expect(a.finish_reason).toBe("stop");
  expect(a.ids.slice(0, 3)).toEqual([432, 383, 286]);
  expect(b.ids.length).toBeGreaterThan(0);
  expect(typeof b.text).toBe("string");
});

test("sampling is reproducible with --seed", () => {
  const args = [
    "--prompt",
    "The cat",
    "--temperature",
    "1",
    "--top-p",
    "0.9",
    "--max-new-tokens",
    "12",
    "--json",
  ];
  const a = rho1(...args, "--seed", "4");
  const b = rho1(...args, "--seed", "4");
  expect(a.code).toBe(0);
  expect(a.stdout).toBe(b.stdout);
  expect(JSON.parse(a.stdout).ids).toHaveLength(12);
});

test("stops at the model's context (512 positions) with a one-line notice", () => {
  const long = [1, ...Array.from({ length: 499 }, (_, i) => 300 + (i % 100))];
  const over = [1, ...Array.from({ length: 599 }, (_, i) => 300 + (i % 100))];
  const r = rho1("--input-ids", JSON.stringify([long, over]), "--max-new-tokens", "100", "--json");
  expect(r.code).toBe(0);
  const [a, b] = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(a.finish_reason).toBe("length");
  expect(a.ids.length).toBe(12);
  expect(b).toEqual({ ids: [], text: "", finish_reason: "length" });
  expect(r.stderr).toContain("generate: 2 of 2 row(s) stopped at the model's context of 512 positions");
}, 60_000);

test("usage errors exit 2 with one line", () => {
  const both = rho1("--prompt", "x", "--input-ids", "[1]");
  expect(both.code).toBe(2);
  expect(both.stderr).toBe("rho1 generate: give exactly one of --prompt TEXT or --input-ids JSON\n");
  const badIds = rho1("--input-ids", "[1, -3]");
  expect(badIds.code).toBe(2);
  expect(badIds.stderr).toContain("--input-ids expects non-empty arrays of token ids");
  const badTemp = rho1("--prompt", "x", "--temperature", "hot");
  expect(badTemp.code).toBe(2);
  expect(badTemp.stderr).toBe('rho1 generate: --temperature expects a number >= 0, found "hot"\n');
  const noModel = rho1("--model", "/nonexistent", "--input-ids", "[1]");
  expect(noModel.code).toBe(1);
  expect(noModel.stderr.trim().split("\n").at(-1)).toStartWith(
    "rho1 generate: ConfigError: /nonexistent/config.json",
  );
});
