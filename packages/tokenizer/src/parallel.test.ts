import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer, TokenizerError } from "./index.ts";
import { STORIES_DIR } from "./test-support.ts";

describe("encodeCorpusParallel", () => {
  test("two workers give the ids and order of encodeCorpus", async () => {
    const tok = await loadTokenizer(STORIES_DIR);
    // > 1 MiB of text so that the work really goes to workers; documents of varied length.
    const docs: string[] = [];
    for (let i = 0; docs.reduce((n, d) => n + d.length, 0) < 1_300_000; i++) {
      docs.push(`Doc ${i}: <s> Once upon a time ${"there was a cat. ".repeat(1 + (i % 97))}</s>\n`);
    }
    const serial = tok.encodeCorpus(docs);
    const parallel = await tok.encodeCorpusParallel(docs, { workers: 2 });
    expect(parallel.length).toBe(docs.length);
    expect(parallel).toEqual(serial);
    // Two calls at once share the pool; each gets its own documents back.
    const reversed = [...docs].reverse();
    const [special, backwards] = await Promise.all([
      tok.encodeCorpusParallel(docs, { workers: 2, parseSpecial: true }),
      tok.encodeCorpusParallel(reversed, { workers: 2 }),
    ]);
    expect(special[0]).toContain(tok.bosId as number);
    expect(special).toEqual(tok.encodeCorpus(docs, { parseSpecial: true }));
    expect(backwards).toEqual([...serial].reverse());
  });

  test("small inputs and workers: 1 run on the calling thread; bad worker counts are refused", async () => {
    const tok = await loadTokenizer(STORIES_DIR);
    expect(await tok.encodeCorpusParallel(["Hi there", ""], { workers: 1 })).toEqual(
      tok.encodeCorpus(["Hi there", ""]),
    );
    expect(await tok.encodeCorpusParallel([])).toEqual([]);
    await expect(tok.encodeCorpusParallel(["x"], { workers: 0 })).rejects.toThrow(TokenizerError);
  });

  test("a tokenizer.json changed on disk after loading is an error, not other ids", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rho1-tok-"));
    cpSync(join(STORIES_DIR, "tokenizer.json"), join(dir, "tokenizer.json"));
    const tok = await loadTokenizer(dir);
    const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    json.model.merges = json.model.merges.slice(0, 10);
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
    const docs = Array.from({ length: 40 }, (_, i) => `${i} ${"Once upon a time. ".repeat(2000)}`);
    await expect(tok.encodeCorpusParallel(docs, { workers: 2 })).rejects.toThrow(/changed on disk/);
    rmSync(dir, { recursive: true });
  });
});
