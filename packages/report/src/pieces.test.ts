import { describe, expect, test } from "bun:test";
import { pieceTexts } from "./pieces.ts";

const texts = (pieces: string[], style?: "sentencepiece" | "byte-level" | "raw") =>
  pieceTexts(pieces, style).map((t) => t.text);

describe("pieceTexts", () => {
  test("SentencePiece ▁ becomes a space and <0x0A> a newline", () => {
    expect(texts(["▁Hello", "▁wor", "ld", "<0x0A>", "▁x"])).toEqual([" Hello", " wor", "ld", "\n", " x"]);
  });

  test("a multi-byte character appears on the token that completes it", () => {
    // "é" = C3 A9, "€" = E2 82 AC
    expect(texts(["▁caf", "<0xC3>", "<0xA9>", "<0xE2>", "<0x82>", "<0xAC>", "!"])).toEqual([
      " caf",
      "",
      "é",
      "",
      "",
      "€",
      "!",
    ]);
  });

  test("an unfinished byte run shows U+FFFD on its last byte token", () => {
    expect(texts(["<0xC3>", "▁a"])).toEqual(["\uFFFD", " a"]);
    expect(texts(["a", "<0xE2>", "<0x82>"])).toEqual(["a", "", "\uFFFD"]);
  });

  test("control tokens are flagged special and kept verbatim", () => {
    const out = pieceTexts(["<s>", "▁a", "</s>", "<unk>", "<|endoftext|>"]);
    expect(out.map((t) => t.special)).toEqual([true, false, true, true, true]);
    expect(out[0].text).toBe("<s>");
  });

  test("byte-level BPE: Ġ is a space, Ċ a newline, multi-byte runs decode", () => {
    // "é" in GPT-2 byte-level is "Ã©" (bytes C3 A9 mapped to printable chars).
    expect(texts(["Hello", "Ġworld", "Ċ", "Ã©"], "byte-level")).toEqual(["Hello", " world", "\n", "é"]);
  });

  test("raw pieces pass through", () => {
    expect(texts(["▁a", "<0x0A>"], "raw")).toEqual(["▁a", "<0x0A>"]);
  });
});
