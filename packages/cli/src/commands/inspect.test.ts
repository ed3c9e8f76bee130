import { expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { cliCommand, ROOT, STORIES, tempDir } from "./test-support.ts";

const SHARDED = join(ROOT, "../shared/fixtures/models/llama-tied-bf16-sharded");
const tmp = tempDir("rho1-inspect-");

const rho1 = cliCommand("inspect");

test("a checkpoint folder: config summary (transformers 4.x dialect), tensors and parameter count", () => {
  const { code, stdout, stderr } = rho1(STORIES);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout).toContain(
    "config: LlamaForCausalLM, hidden 64, layers 5, heads 8, kv heads 4, vocab 512, rope theta 10000, dtype float32",
  );
  expect(stdout).toContain("tensors: 47, parameters: 260,032, bytes: 1,040,128");
  expect(stdout).toMatch(/model\.embed_tokens\.weight\s+F32\s+\[512, 64\]\s+131,072\n/);
});

test("--json on a .safetensors file", () => {
  const { code, stdout } = rho1(join(STORIES, "model.safetensors"), "--json");
  expect(code).toBe(0);
  const report = JSON.parse(stdout);
  expect(report.kind).toBe("file");
  expect(report.config).toBeNull();
  expect(report.parameters).toBe(260_032);
  expect(report.tensors.length).toBe(47);
  expect(report.tensors[0]).toEqual({
    name: "model.embed_tokens.weight",
    dtype: "F32",
    shape: [512, 64],
    bytes: 131072,
  });
  expect(report.metadata).toEqual({ format: "pt" });
});

test.skipIf(!fixturesPresent(SHARDED))(
  "a sharded bf16 checkpoint in the transformers 5.x dialect (rope_parameters, dtype)",
  () => {
    const { code, stdout } = rho1(SHARDED, "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.files.length).toBe(16);
    expect(report.parameters).toBe(369_312);
    expect(report.bytes).toBe(738_624);
    expect(report.config).toEqual({
      architecture: "LlamaForCausalLM",
      hiddenSize: 96,
      numLayers: 3,
      numHeads: 6,
      numKvHeads: 6,
      vocabSize: 384,
      ropeTheta: 500000,
      dtype: "bfloat16",
    });
  },
);

test("the config summary comes from transformer's parser: kv heads default to heads; an unloadable config is reported", () => {
  const dir = join(tmp, "variant");
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(STORIES, "model.safetensors"), join(dir, "model.safetensors"));
  const config = JSON.parse(readFileSync(join(STORIES, "config.json"), "utf8"));
  const { num_key_value_heads: _, ...noKv } = config;
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...noKv, torch_dtype: "bfloat16" }));
  const report = JSON.parse(rho1(dir, "--json").stdout);
  expect(report.config).toMatchObject({ numHeads: 8, numKvHeads: 8, dtype: "bfloat16" });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, hidden_act: "gelu" }));
  const bad = rho1(dir);
  expect(bad.code).toBe(0);
  expect(bad.stdout).toContain(
    `config: ${join(dir, "config.json")}: field "hidden_act" expected "silu", found "gelu"`,
  );
  expect(bad.stdout).toContain("tensors: 47, parameters: 260,032");
});

test("bad usage exits 2 with a one-line reason", () => {
  for (const args of [[], [STORIES, STORIES], [STORIES, "--bogus"]]) {
    const { code, stderr, stdout } = rho1(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n").length).toBe(1);
    expect(stderr).toStartWith("rho1 inspect: ");
  }
});

test("a corrupt or missing file exits 1 with a one-line error naming it", () => {
  const corrupt = join(tmp, "corrupt.safetensors");
  writeFileSync(corrupt, readFileSync(join(STORIES, "model.safetensors")).subarray(0, 1000));
  const result = rho1(corrupt);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr.trimEnd().split("\n")).toEqual([
    `rho1 inspect: SafetensorsError: ${corrupt}: header length 4856 runs past the end of the file (1000 bytes, 992 after the length)`,
  ]);
  const missing = rho1(join(tmp, "nothing-here"));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("nothing-here");
  expect(missing.stderr.trimEnd().split("\n").length).toBe(1);
});
