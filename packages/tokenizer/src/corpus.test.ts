import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer } from "./index.ts";
import { libraryReference } from "./reference.ts";
import {
  GOLDEN_TOKENIZERS,
  hasShared,
  readMathCorpus,
  STORIES_DIR,
  sharedTokenizer,
} from "./test-support.ts";
import type { HfFolderTokenizer } from "./tokenizer.ts";

/** Texts that stress the cuts: runs of spaces, literal "▁", surrogate pairs, control characters, long words. */
const TRICKY = [
  "",
  " ",
  "▁",
  "▁▁x ▁ y▁",
  "a  b   c    d",
  "  x",
  "x  ",
  "\n\n  \n",
  "tab\tand\r\nCRLF",
  "🙂🙂 🚀x 👩‍👩‍👧 🇫🇷🇫🇷",
  "emoji🙂glued🙂",
  "<s>",
  "</s>",
  "<unk>",
  "<s><s></s>",
  " <s> x</s>y <unk>z",
  "a<s>b",
  "x".repeat(5000),
  "ab ".repeat(2000),
  "$\\frac{1}{2}$".repeat(300),
  "ünïcödé naïve café — “quotes” ½ ∑ ∫",
  "中文数学题：小明有3个苹果",
  "\u0000\u0001\u007f\u200b\u00a0\u2028",
];

function randomTexts(count: number, seed: number): string[] {
  const alphabet = [
    " ",
    " ",
    " ",
    "▁",
    "a",
    "b",
    "e",
    "t",
    "h",
    "1",
    "2",
    "$",
    "\\",
    "{",
    "}",
    "\n",
    "é",
    "🙂",
    "<s>",
    "</s>",
    "th",
    "the",
    "ing",
  ];
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(next() * 40);
    let s = "";
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(next() * alphabet.length)];
    texts.push(s);
  }
  return texts;
}

const dirs = hasShared ? GOLDEN_TOKENIZERS : { stories260K: STORIES_DIR };

for (const [name, dir] of Object.entries(dirs)) {
  describe(`${name} corpus path`, () => {
    test("tricky and random texts: same ids as the library, both parseSpecial modes", async () => {
      const tok = await sharedTokenizer(dir);
      const texts = [...TRICKY, ...randomTexts(400, 7)];
      for (const parseSpecial of [true, false]) {
        const ref = libraryReference(dir, parseSpecial);
        const got = tok.encodeCorpus(texts, { parseSpecial });
        // A second pass runs from the warm cache and must give the same ids.
        const again = tok.encodeCorpus(texts, { parseSpecial });
        for (let i = 0; i < texts.length; i++) {
          const want = ref(texts[i]);
          expect({ text: texts[i], ids: got[i] }).toEqual({ text: texts[i], ids: want });
          expect(again[i]).toEqual(want);
        }
      }
    }, 30_000);

    test("literal <s> and </s> stay text by default and become control tokens with parseSpecial", async () => {
      const tok = await sharedTokenizer(dir);
      const text = "Hello <s> world </s>";
      const bos = tok.bosId as number;
      const eos = tok.eosId as number;
      const plain = tok.encodeCorpus([text])[0];
      expect(plain).not.toContain(bos);
      expect(plain).not.toContain(eos);
      expect(tok.decode(plain)).toBe(text);
      const special = tok.encodeCorpus([text], { parseSpecial: true })[0];
      expect(special).toContain(bos);
      expect(special).toContain(eos);
      expect(special).toEqual(tok.encode(text, { addSpecialTokens: false }));
    });
  });
}

describe.skipIf(!hasShared)("math corpus slice", () => {
  // The whole corpus is checked by benchmarks/tokenizer/verify.ts; here 100 GSM8K + 100 MATH documents.
  test("200 documents: corpus path == library encode, all three tokenizers", async () => {
    const docs = readMathCorpus();
    const slice = [...docs.slice(0, 100), ...docs.slice(-100)];
    for (const dir of Object.values(GOLDEN_TOKENIZERS)) {
      const tok = await sharedTokenizer(dir);
      const ref = libraryReference(dir, true);
      const got = tok.encodeCorpus(slice);
      for (let i = 0; i < slice.length; i++) expect(got[i]).toEqual(ref(slice[i]));
    }
  }, 30_000);
});

describe("cuts only where no merge crosses", () => {
  // "a▁" and "a▁b" are merges: cutting "▁a▁b" before the second "▁" would lose them.
  const merges: [string, string][] = [
    ["a", "▁"],
    ["a▁", "b"],
    ["▁", "a"],
    ["▁", "▁"],
    ["b", "c"],
  ];
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (const t of ["▁", "a", "b", "c", "a▁", "a▁b", "▁a", "▁▁", "bc"]) vocab[t] = Object.keys(vocab).length;

  async function synthetic(fuseUnk: boolean) {
    const dir = mkdtempSync(join(tmpdir(), "rho1-tok-"));
    const special = (id: number, content: string) => ({ id, content, special: true, normalized: false });
    const tokenizer = {
      version: "1.0",
      added_tokens: [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")],
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false },
      post_processor: null,
      decoder: null,
      model: { type: "BPE", unk_token: "<unk>", fuse_unk: fuseUnk, byte_fallback: false, merges, vocab },
    };
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
    return { tok: (await loadTokenizer(dir)) as HfFolderTokenizer, ref: libraryReference(dir, true) };
  }
  const texts = ["a b", "ab a b", "c a bc", "a  b", "xyz a b", "x y", "ba b c", ...randomTexts(200, 3)];

  test("merges across '▁' block that cut; still exact", async () => {
    const { tok, ref } = await synthetic(false);
    expect(tok.segmented).toBe(true);
    expect(tok.encode("a b", { addSpecialTokens: false })).toEqual([vocab["▁"], vocab["a▁b"]]);
    for (const t of texts)
      expect({ t, ids: tok.encode(t, { addSpecialTokens: false }) }).toEqual({ t, ids: ref(t) });
  });

  test("unknown tokens that fuse across pieces turn cutting off; still exact", async () => {
    const { tok, ref } = await synthetic(true);
    expect(tok.segmented).toBe(false);
    // "x" and "y" are unknown and no merge joins them (a cut would be allowed): fuse_unk makes them one <unk>.
    expect(tok.encode("xy", { addSpecialTokens: false })).toEqual([vocab["▁"], 0]);
    for (const t of texts)
      expect({ t, ids: tok.encode(t, { addSpecialTokens: false }) }).toEqual({ t, ids: ref(t) });
  });

  test.skipIf(!hasShared)(
    "the real Llama, Mistral and stories260K vocabularies take the cut path",
    async () => {
      for (const dir of Object.values(GOLDEN_TOKENIZERS)) {
        expect(((await loadTokenizer(dir)) as HfFolderTokenizer).segmented).toBe(true);
      }
    },
  );
});

describe("other tokenizer families run through the same mirror of the library", () => {
  function write(tokenizer: Record<string, unknown>): string {
    const dir = mkdtempSync(join(tmpdir(), "rho1-tok-"));
    writeFileSync(
      join(dir, "tokenizer.json"),
      JSON.stringify({ version: "1.0", added_tokens: [], ...tokenizer }),
    );
    return dir;
  }
  const texts = [
    "Hello there, the THEATRE!",
    "  the   other\tthing ",
    "unknown ¿ñ? 🙂",
    "",
    ...randomTexts(150, 11),
  ];

  test("WordPiece (no cutting): same ids as the library", async () => {
    const vocab: Record<string, number> = {};
    for (const t of [
      "[UNK]",
      "[CLS]",
      "the",
      "##re",
      "there",
      "other",
      "thing",
      "h",
      "##e",
      "##l",
      "##o",
      ",",
      "!",
    ]) {
      vocab[t] = Object.keys(vocab).length;
    }
    const dir = write({
      added_tokens: [{ id: 0, content: "[UNK]", special: true }],
      normalizer: { type: "Lowercase" },
      pre_tokenizer: { type: "Whitespace" },
      model: {
        type: "WordPiece",
        unk_token: "[UNK]",
        continuing_subword_prefix: "##",
        max_input_chars_per_word: 100,
        vocab,
      },
    });
    const tok = (await loadTokenizer(dir)) as HfFolderTokenizer;
    expect(tok.segmented).toBe(false);
    const ref = libraryReference(dir, true);
    expect(tok.encode("there the", { addSpecialTokens: false })).toEqual([vocab.there, vocab.the]);
    for (const t of texts)
      expect({ t, ids: tok.encodeCorpus([t], { parseSpecial: true })[0] }).toEqual({ t, ids: ref(t) });
  });

  test("byte-level BPE with a splitting pre-tokenizer (GPT-2 style): cut path, same ids as the library", async () => {
    // The 256 byte symbols of GPT-2's byte-to-unicode map, plus a few merges.
    const byteChars: string[] = [];
    for (let b = 0, n = 0; b < 256; b++) {
      const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      byteChars.push(String.fromCharCode(printable ? b : 256 + n++));
    }
    const vocab: Record<string, number> = {};
    for (const c of byteChars) vocab[c] = Object.keys(vocab).length;
    const merges: [string, string][] = [
      ["Ġ", "t"],
      ["h", "e"],
      ["Ġt", "he"],
      ["e", "r"],
      ["Ġ", "Ġ"],
      ["t", "h"],
      ["th", "e"],
    ];
    for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
    const dir = write({
      pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: { type: "BPE", merges, vocab, fuse_unk: false, byte_fallback: false },
    });
    const tok = (await loadTokenizer(dir)) as HfFolderTokenizer;
    expect(tok.segmented).toBe(true);
    const ref = libraryReference(dir, true);
    expect(tok.encode(" the", { addSpecialTokens: false })).toEqual([vocab.Ġthe]);
    for (const t of texts)
      expect({ t, ids: tok.encodeCorpus([t], { parseSpecial: true })[0] }).toEqual({ t, ids: ref(t) });
  });
});

describe("added tokens with lstrip/rstrip and normalized non-special tokens", () => {
  test("both modes match the library (with and without the special ones)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rho1-tok-"));
    const json = JSON.parse(await Bun.file(join(STORIES_DIR, "tokenizer.json")).text());
    json.added_tokens.push(
      { id: 512, content: "<mask>", special: true, normalized: false, lstrip: true, rstrip: true },
      { id: 513, content: "hello", special: false, normalized: true, lstrip: false, rstrip: false },
      { id: 514, content: "[X]", special: false, normalized: false, lstrip: false, rstrip: true },
    );
    // A normalizer, so that the normalized added token goes through the second (normalized) splitter.
    json.normalizer = {
      type: "Sequence",
      normalizers: [{ type: "Replace", pattern: { String: "\t" }, content: " " }],
    };
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
    const tok = await loadTokenizer(dir);
    expect(tok.vocabSize).toBe(515);
    const texts = [
      "say hello  <mask>  to [X]   the cat",
      "<mask>hello<mask>",
      "a\thello\t<s>[X]",
      "  <mask>  ",
      ...randomTexts(150, 5).map((t, i) => (i % 2 ? `${t} <mask> ${t}hello[X] ` : t)),
    ];
    for (const parseSpecial of [true, false]) {
      const ref = libraryReference(dir, parseSpecial);
      for (const t of texts) {
        expect({ t, parseSpecial, ids: tok.encodeCorpus([t], { parseSpecial })[0] }).toEqual({
          t,
          parseSpecial,
          ids: ref(t),
        });
      }
    }
    expect(tok.encodeCorpus(["<mask>"], { parseSpecial: true })[0]).toEqual([512]);
    expect(tok.encodeCorpus(["<mask>"])[0]).not.toContain(512);
    expect(tok.encodeCorpus(["hello"])[0]).toContain(513);
  });
});
