import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer, TokenizerError } from "./index.ts";
import { GOLDEN_TOKENIZERS, hasShared, STORIES_DIR, sharedTokenizer } from "./test-support.ts";

/** A copy of the embedded stories260K tokenizer folder that a test may edit. */
function storiesCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "rho1-tok-"));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) cpSync(join(STORIES_DIR, f), join(dir, f));
  return dir;
}

function editJson(path: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(path, "utf8"));
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

async function loadError(dir: string): Promise<TokenizerError> {
  try {
    await loadTokenizer(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenizerError);
    return error as TokenizerError;
  }
  throw new Error(`loadTokenizer(${dir}) did not throw`);
}

describe("loadTokenizer", () => {
  test("stories260K: vocab size, special ids, flags, hash", async () => {
    const tok = await loadTokenizer(STORIES_DIR);
    expect(tok.vocabSize).toBe(512);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([1, 2, null]);
    expect([tok.addBos, tok.addEos]).toEqual([true, false]);
    const bytes = readFileSync(join(STORIES_DIR, "tokenizer.json"));
    expect(tok.hash).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(tok.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tok.idToToken(1)).toBe("<s>");
    expect(tok.tokenToId("</s>")).toBe(2);
    expect(tok.idToToken(100000)).toBeUndefined();
    expect(tok.idToToken(-1)).toBeUndefined();
    expect(tok.tokenToId("no such token")).toBeUndefined();
  });

  test.skipIf(!hasShared)("llama2 and mistral: 32000 tokens, <s>=1, </s>=2", async () => {
    for (const name of ["llama2", "mistral"]) {
      const tok = await sharedTokenizer(GOLDEN_TOKENIZERS[name]);
      expect([tok.vocabSize, tok.bosId, tok.eosId, tok.addBos, tok.addEos]).toEqual([
        32000,
        1,
        2,
        true,
        false,
      ]);
    }
  });

  test("add_bos_token / add_eos_token from tokenizer_config.json are honoured", async () => {
    const dir = storiesCopy();
    const base = await loadTokenizer(dir);
    const body = base.encode("Once upon a time", { addSpecialTokens: false });
    expect(base.encode("Once upon a time")).toEqual([1, ...body]);

    editJson(join(dir, "tokenizer_config.json"), (c) => {
      c.add_bos_token = false;
      c.add_eos_token = true;
    });
    const flipped = await loadTokenizer(dir);
    expect([flipped.addBos, flipped.addEos]).toEqual([false, true]);
    expect(flipped.encode("Once upon a time")).toEqual([...body, 2]);
    expect(flipped.encode("")).toEqual([2]);
    expect(flipped.encode("Once upon a time", { addSpecialTokens: false })).toEqual(body);

    editJson(join(dir, "tokenizer_config.json"), (c) => {
      c.add_bos_token = true;
    });
    expect((await loadTokenizer(dir)).encode("Once upon a time")).toEqual([1, ...body, 2]);
    rmSync(dir, { recursive: true });
  });

  test("special_tokens_map.json supplies tokens the config lacks; pad id resolved", async () => {
    const dir = storiesCopy();
    editJson(join(dir, "tokenizer_config.json"), (c) => {
      delete c.eos_token;
    });
    writeFileSync(
      join(dir, "special_tokens_map.json"),
      JSON.stringify({ eos_token: { content: "</s>" }, pad_token: "<unk>" }),
    );
    const tok = await loadTokenizer(dir);
    expect([tok.eosId, tok.padId]).toEqual([2, 0]);
    rmSync(dir, { recursive: true });
  });

  test("without tokenizer_config.json the template of tokenizer.json decides", async () => {
    const dir = storiesCopy();
    rmSync(join(dir, "tokenizer_config.json"));
    const tok = await loadTokenizer(dir);
    expect([tok.bosId, tok.addBos, tok.addEos]).toEqual([null, false, false]);
    expect(tok.encode("Hi")[0]).toBe(1);
  });
});

describe("decode", () => {
  test("round trip, special tokens kept or skipped, empty list, bad ids", async () => {
    const tok = await loadTokenizer(STORIES_DIR);
    const ids = tok.encode("Once upon a time, there was a cat.");
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("Once upon a time, there was a cat.");
    expect(tok.decode(ids)).toBe("<s> Once upon a time, there was a cat.");
    expect(tok.decode([])).toBe("");
    expect(() => tok.decode([5, 512])).toThrow(/id 512 is outside the vocabulary \[0, 512\)/);
    expect(() => tok.decode([1.5])).toThrow(TokenizerError);
    expect(() => tok.decode([-1])).toThrow(TokenizerError);
  });
});

describe("bad folders give a TokenizerError naming the file", () => {
  test("missing folder", async () => {
    const error = await loadError("/nonexistent/rho1-tokenizer");
    expect(error.message).toContain("/nonexistent/rho1-tokenizer");
  });

  test("missing tokenizer.json", async () => {
    const dir = storiesCopy();
    rmSync(join(dir, "tokenizer.json"));
    const error = await loadError(dir);
    expect(error.file).toBe(join(dir, "tokenizer.json"));
    expect(error.message).toContain("tokenizer.json is missing");
  });

  test("malformed JSON in tokenizer.json, tokenizer_config.json and special_tokens_map.json", async () => {
    for (const file of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
      const dir = storiesCopy();
      writeFileSync(join(dir, file), '{"model": ');
      const error = await loadError(dir);
      expect(error.file).toBe(join(dir, file));
      expect(error.message).toContain("not valid JSON");
    }
    const dir = storiesCopy();
    writeFileSync(join(dir, "tokenizer.json"), "[1, 2]");
    expect((await loadError(dir)).message).toContain("expected a JSON object, found an array");
  });

  test("models the library cannot run exactly", async () => {
    const cases: [string, (j: Record<string, unknown>) => void, string][] = [
      ["unknown model", (j) => ((j.model as Record<string, unknown>).type = "WordLevel"), '"model.type"'],
      ["no model", (j) => delete j.model, '"model"'],
      ["merges not a list", (j) => ((j.model as Record<string, unknown>).merges = 3), '"model.merges"'],
      ["dropout", (j) => ((j.model as Record<string, unknown>).dropout = 0.1), "dropout"],
      ["bad added token", (j) => ((j.added_tokens as unknown[])[0] = { id: "x" }), '"added_tokens[0]"'],
      [
        "Metaspace split",
        (j) => (j.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "always" }),
        "split=true",
      ],
      ["unknown normalizer", (j) => (j.normalizer = { type: "Nope" }), "Unknown Normalizer type: Nope"],
    ];
    for (const [, edit, expected] of cases) {
      const dir = storiesCopy();
      editJson(join(dir, "tokenizer.json"), edit);
      const error = await loadError(dir);
      expect(error.file).toBe(join(dir, "tokenizer.json"));
      expect(error.message).toContain(expected);
    }
  });

  test("bad tokenizer_config.json fields", async () => {
    const cases: [(c: Record<string, unknown>) => void, string][] = [
      [(c) => (c.add_bos_token = "yes"), 'field "add_bos_token": expected true or false, found "yes"'],
      [(c) => (c.bos_token = "<nope>"), 'field "bos_token": token "<nope>" is not in the vocabulary'],
      [(c) => (c.eos_token = 7), 'field "eos_token": expected a string or {content: string}, found 7'],
    ];
    for (const [edit, expected] of cases) {
      const dir = storiesCopy();
      editJson(join(dir, "tokenizer_config.json"), edit);
      const error = await loadError(dir);
      expect(error.file).toBe(join(dir, "tokenizer_config.json"));
      expect(error.message).toContain(expected);
    }
  });

  test("encode and encodeCorpus reject non-strings", async () => {
    const tok = await loadTokenizer(STORIES_DIR);
    expect(() => tok.encode(3 as unknown as string)).toThrow(TokenizerError);
    expect(() => tok.encodeCorpus(["ok", null as unknown as string])).toThrow(/document 1 is object/);
  });
});
