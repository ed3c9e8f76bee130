import { describe, expect, test } from "bun:test";
import { libraryReference } from "./reference.ts";
import { GOLDEN_TOKENIZERS, hasShared, readGolden, sharedTokenizer } from "./test-support.ts";

for (const [name, dir] of Object.entries(GOLDEN_TOKENIZERS)) {
  describe.skipIf(!hasShared)(`${name} golden (Rust tokenizers)`, () => {
    test("encode, encode without specials, encodeBatch, encodeCorpus and decode match every record", async () => {
      const tok = await sharedTokenizer(dir);
      const golden = readGolden(name);
      expect(golden.length).toBeGreaterThan(50);
      const plain = libraryReference(dir, false);
      for (const g of golden) {
        expect({ text: g.text, ids: tok.encode(g.text) }).toEqual({ text: g.text, ids: g.ids });
        expect(tok.encode(g.text, { addSpecialTokens: false })).toEqual(g.ids_no_special);
        expect(tok.decode(g.ids, { skipSpecialTokens: true })).toBe(g.decoded);
        // Corpus path: parseSpecial true is encode(text, {addSpecialTokens: false}); the default keeps "<s>" as text.
        expect(tok.encodeCorpus([g.text], { parseSpecial: true })[0]).toEqual(g.ids_no_special);
        expect(tok.encodeCorpus([g.text])[0]).toEqual(plain(g.text));
      }
      expect(tok.encodeBatch(golden.map((g) => g.text))).toEqual(golden.map((g) => g.ids));
      expect(
        tok.encodeCorpus(
          golden.map((g) => g.text),
          { parseSpecial: true },
        ),
      ).toEqual(golden.map((g) => g.ids_no_special));
    });
  });
}
