import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { loadTokenizer } from "@rho1/tokenizer";

const ROOT = join(import.meta.dir, "../../../..");
const STORIES = join(ROOT, "models/stories260K");
const SHARED = join(ROOT, "../shared");
const LLAMA2 = join(SHARED, "data/tokenizers/llama2");
const LLAMA2_GOLDEN = join(SHARED, "fixtures/tokenizers/llama2.golden.jsonl");

function rho1(stdin: string, ...args: string[]) {
  const proc = Bun.spawnSync(["bun", "packages/cli/src/main.ts", "tokenize", ...args], {
    cwd: ROOT,
    stdin: new TextEncoder().encode(stdin),
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

const TEXTS = ["Once upon a time", "", " <s> literal </s>", "ünïcödé 🙂\nnew line", "a  b   c"];

test("ids on stdout in input order, equal to encode() with and without --no-special", async () => {
  const tok = await loadTokenizer(STORIES);
  const input = `${TEXTS.map((text) => JSON.stringify({ text, extra: 1 })).join("\n")}\n\n`;
  for (const [args, addSpecialTokens] of [
    [[], true],
    [["--no-special"], false],
  ] as const) {
    const { code, stdout, stderr } = rho1(input, "--tokenizer", STORIES, ...args);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(TEXTS.map((t) => ({ ids: tok.encode(t, { addSpecialTokens }) })));
  }
  // The literal "<s>" is read as a control token, like encode() and the Hugging Face tokenizer.
  expect(tok.encode(TEXTS[2], { addSpecialTokens: false })).toContain(1);
});

test.skipIf(!fixturesPresent(LLAMA2_GOLDEN))("llama2 golden texts give the golden ids", () => {
  const golden = readFileSync(LLAMA2_GOLDEN, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const input = golden.map((g) => JSON.stringify({ text: g.text })).join("\n");
  const { code, stdout } = rho1(input, "--tokenizer", LLAMA2);
  expect(code).toBe(0);
  expect(
    stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).ids),
  ).toEqual(golden.map((g) => g.ids));
});

test("bad usage: one line, exit 2; bad input (stdin records, missing folder): one line, exit 1", async () => {
  const missing = rho1("");
  expect(missing.code).toBe(2);
  expect(missing.stderr).toBe("rho1 tokenize: missing required option --tokenizer\n");

  const unknown = rho1("", "--tokenizer", STORIES, "--bogus");
  expect(unknown.code).toBe(2);
  expect(unknown.stderr.trim().split("\n").length).toBe(1);
  const misspelt = rho1("", "--tokeniser", STORIES);
  expect(misspelt.code).toBe(2);
  expect(misspelt.stderr).toContain("did you mean --tokenizer?");

  const notText = rho1('{"text": "ok"}\n\n{"txt": 1}\n', "--tokenizer", STORIES);
  expect(notText.code).toBe(1);
  expect(notText.stderr).toBe('rho1 tokenize: stdin:3: expected {"text": string}, found {"txt":1}\n');
  // Records before the bad one were already written.
  const ok = (await loadTokenizer(STORIES)).encode("ok");
  expect(ok).toEqual([1, 334, 433]);
  expect(notText.stdout).toBe(`${JSON.stringify({ ids: ok })}\n`);

  const badJson = rho1('{"text": \n', "--tokenizer", STORIES);
  expect(badJson.code).toBe(1);
  expect(badJson.stderr).toContain("stdin:1: not valid JSON");

  const noFolder = rho1("", "--tokenizer", "/nonexistent/tok");
  expect(noFolder.code).toBe(1);
  expect(noFolder.stderr).toBe(
    "rho1 tokenize: TokenizerError: tokenizer folder not found: /nonexistent/tok\n",
  );
});
