import { describe, expect, test } from "bun:test";
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
    const special = await tok.encodeCorpusParallel(docs, { workers: 2, parseSpecial: true });
    expect(special[0]).toContain(tok.bosId as number);
    expect(special).toEqual(tok.encodeCorpus(docs, { parseSpecial: true }));
  });

  test("small inputs and workers: 1 run on the calling thread; bad worker counts are refused", async () => {
    const tok = await loadTokenizer(STORIES_DIR);
    expect(await tok.encodeCorpusParallel(["Hi there", ""], { workers: 1 })).toEqual(
      tok.encodeCorpus(["Hi there", ""]),
    );
    expect(await tok.encodeCorpusParallel([])).toEqual([]);
    await expect(tok.encodeCorpusParallel(["x"], { workers: 0 })).rejects.toThrow(TokenizerError);
  });
});
