import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openSafetensors } from "@rho1/safetensors";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const work = tempDir("rho1-cli-export-");
const rho1 = (command: string, ...args: string[]) => cliCommand(command)(...args);
const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), "utf8"));

type Json = Record<string, unknown>;
const isToken = (v: unknown) =>
  typeof v === "string" || (typeof v === "object" && v !== null && typeof (v as Json).content === "string");
const content = (v: unknown) => (typeof v === "string" ? v : ((v as Json).content as string));
const NAMED = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

/**
 * How transformers 4.x (4.46-4.57, tokenization_utils_base.py) turns tokenizer_config.json + special_tokens_map.json
 * into special tokens:
 * - `_from_pretrained`: special_tokens_map.json values (str, {content...} -> AddedToken, or lists of them) are
 *   added to the init kwargs for keys not already in tokenizer_config.json;
 * - `SpecialTokensMixin.__init__`: `additional_special_tokens` must be a list/tuple of str or AddedToken
 *   (assert), every other special token a str or AddedToken (else ValueError);
 * - `PreTrainedTokenizerBase.__init__`: `self.extra_special_tokens = kwargs.pop("extra_special_tokens", {})`, then
 *   `_set_model_specific_special_tokens(special_tokens=self.extra_special_tokens)`, which calls `.keys()` on it:
 *   a list raises AttributeError: 'list' object has no attribute 'keys';
 * - config.json's dtype is `torch_dtype`.
 */
function loadV4(config: Json, map: Json) {
  const kwargs: Json = { ...config };
  for (const [k, v] of Object.entries(map)) if (!(k in kwargs)) kwargs[k] = v;
  const additional = kwargs.additional_special_tokens ?? [];
  if (!Array.isArray(additional) || !additional.every(isToken))
    throw new Error("AssertionError: additional_special_tokens must be a list of str or AddedToken");
  const named: Record<string, string> = {};
  for (const key of NAMED) {
    const v = kwargs[key];
    if (v === undefined || v === null) continue;
    if (!isToken(v)) throw new Error(`ValueError: special token ${key} has to be either str or AddedToken`);
    named[key] = content(v);
  }
  const extra = kwargs.extra_special_tokens ?? {};
  if (typeof extra !== "object" || extra === null || Array.isArray(extra))
    throw new Error(
      `AttributeError: '${Array.isArray(extra) ? "list" : typeof extra}' object has no attribute 'keys'`,
    );
  return { named, extra: (additional as unknown[]).map(content) };
}

/**
 * How transformers 5.x (tokenization_utils_base.py, `PreTrainedTokenizerBase.__init__`) does it:
 * - `if "additional_special_tokens" in kwargs and "extra_special_tokens" not in kwargs:` it is renamed to
 *   extra_special_tokens;
 * - `extra_special_tokens`: a dict -> named model-specific tokens, a list/tuple -> the extra special tokens,
 *   anything else TypeError("extra_special_tokens must be a list/tuple of tokens or a dict of named tokens");
 * - the named special tokens are str or AddedToken;
 * - config.json's dtype is `dtype` (torch_dtype is read as its deprecated alias).
 */
function loadV5(config: Json, map: Json) {
  const kwargs: Json = { ...config };
  for (const [k, v] of Object.entries(map)) if (!(k in kwargs)) kwargs[k] = v;
  if ("additional_special_tokens" in kwargs && !("extra_special_tokens" in kwargs)) {
    kwargs.extra_special_tokens = kwargs.additional_special_tokens;
    delete kwargs.additional_special_tokens;
  }
  const named: Record<string, string> = {};
  for (const key of NAMED) {
    const v = kwargs[key];
    if (v === undefined || v === null) continue;
    if (!isToken(v)) throw new Error(`ValueError: Cannot set a non-string value as the ${key}`);
    named[key] = content(v);
  }
  const extraRaw = kwargs.extra_special_tokens;
  let extra: string[] = [];
  if (Array.isArray(extraRaw)) extra = extraRaw.map(content);
  else if (extraRaw !== undefined && extraRaw !== null && typeof extraRaw !== "object")
    throw new Error(
      "TypeError: extra_special_tokens must be a list/tuple of tokens or a dict of named tokens",
    );
  return { named, extra };
}

const trainedCheckpoint = (() => {
  const data = join(work, "d.jsonl");
  Bun.write(
    data,
    '{"text": "Once upon a time there was a cat."}\n{"text": "Tom had a red ball and a dog."}\n',
  );
  let dir: string | null = null;
  return () => {
    if (dir) return dir;
    const out = join(work, "run");
    const r = rho1(
      "train",
      ...["--model", STORIES, "--data", data, "--eval-data", data, "--out", out, "--seq-len", "16"],
      ...["--batch-size", "2", "--steps", "2"],
    );
    expect(r.code).toBe(0);
    dir = join(out, "checkpoint-2");
    return dir;
  };
})();

test("the shipped tokenizer_config.json (transformers 5's list form) fails 4.x's rules: the reported bug", () => {
  const config = json(STORIES, "tokenizer_config.json");
  expect(Array.isArray(config.extra_special_tokens)).toBe(true);
  expect(() => loadV4(config, {})).toThrow("'list' object has no attribute 'keys'");
});

test("rho1 export: files that transformers 4.x and 5.x both read the same way, and the model card", () => {
  const checkpoint = trainedCheckpoint();
  for (const dtype of ["bf16", "f16", "f32"] as const) {
    const out = join(work, `export-${dtype}`);
    const r = rho1("export", checkpoint, "--out", out, "--dtype", dtype);
    expect(r.code).toBe(0);
    const config = json(out, "tokenizer_config.json");
    const map = json(out, "special_tokens_map.json");
    const v4 = loadV4(config, map);
    const v5 = loadV5(config, map);
    expect(v4).toEqual(v5);
    expect(v4.named).toEqual({ bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" });
    expect(v4.extra).toEqual(["<s>", "</s>"]);
    expect(map).toEqual({
      bos_token: "<s>",
      eos_token: "</s>",
      unk_token: "<unk>",
      additional_special_tokens: ["<s>", "</s>"],
    });
    // model_max_length stays Python's exact int(1e30), not JavaScript's 1e+30 (a float to Python).
    expect(readFileSync(join(out, "tokenizer_config.json"), "utf8")).toContain(
      '"model_max_length": 1000000000000000019884624838656',
    );
    const torchName = { bf16: "bfloat16", f16: "float16", f32: "float32" }[dtype];
    const modelConfig = json(out, "config.json");
    expect(modelConfig.torch_dtype).toBe(torchName); // 4.x
    expect(modelConfig.dtype).toBe(torchName); // 5.x
    expect(json(out, "generation_config.json")).toEqual({
      _from_model_config: true,
      bos_token_id: 1,
      eos_token_id: 2,
    });
    const weights = openSafetensors(join(out, "model.safetensors"));
    expect(weights.info("model.norm.weight").dtype).toBe(
      { bf16: "BF16", f16: "F16", f32: "F32" }[dtype] as "F32",
    );
    expect(weights.names.some((n) => n.startsWith("m.") || n.startsWith("v."))).toBe(false);
    weights.close();
    const card = readFileSync(join(out, "README.md"), "utf8");
    expect(card).toStartWith("---\nlibrary_name: transformers\n");
    expect(card).toContain("| base model | `stories260K` |");
    expect(card).toContain("| training data | `d.jsonl` |");
    expect(card).toContain("| objective | causal language modeling (every token) |");
    expect(card).toContain("| steps | 2 |");
    expect(card).toMatch(/\| held-out loss \| \d+\.\d{4} \(mean token CE at step 2\) \|/);
    expect(card).toContain(`| weights | ${torchName} safetensors |`);
  }
  // The exported folder loads back (rho1 reads what it wrote).
  const r = cliCommand("inspect")(join(work, "export-f32"));
  expect(r.code).toBe(0);
}, 120_000);

test("rho1 export: usage errors exit 2, bad input exits 1", () => {
  const usage = [
    [[], /expects one CHECKPOINT folder/],
    [[STORIES], /missing required option --out/],
    [[STORIES, "--out", join(work, "x"), "--dtype", "int8"], /--dtype expects bf16, f16 or f32/],
    [
      [STORIES, "--out", join(work, "x"), "--dtyp", "f16"],
      /unknown option --dtyp \(did you mean --dtype\?\)/,
    ],
  ] as const;
  for (const [args, message] of usage) {
    const r = rho1("export", ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  }
  const missing = rho1("export", join(work, "nope"), "--out", join(work, "x"));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no such checkpoint folder");
  const notModel = rho1("export", work, "--out", join(work, "x"));
  expect(notModel.code).toBe(1);
  expect(notModel.stderr).toContain("not a model folder (no config.json)");
}, 60_000);
