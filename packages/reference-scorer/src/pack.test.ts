import { describe, expect, test } from "bun:test";
import { packDocuments } from "./pack.ts";
import { fakeTokenizer } from "./testing/fakes.ts";
import { decodeUnit, encodeUnit, unitLayout } from "./unit-file.ts";

const tok = fakeTokenizer();
const ids = (s: string) => Array.from(new TextEncoder().encode(s), (b) => 3 + (b % 253));

describe("packDocuments", () => {
  test("BOS + tokens + EOS per document, cut into rows, last row padded, boundaries recorded", () => {
    const packed = packDocuments(["abc", "", "  \n\t", null, "hello world"], tok, { seqLen: 8 });
    const stream = [1, ...ids("abc"), 2, 1, ...ids("hello world"), 2]; // 5 + 13 = 18 tokens
    expect(packed.skipped).toBe(3);
    expect(packed.numDocuments).toBe(2);
    expect(packed.tokens).toBe(18);
    expect(packed.numSequences).toBe(3);
    expect(Array.from(packed.lengths)).toEqual([8, 8, 2]);
    expect(Array.from(packed.ids.subarray(0, 18))).toEqual(stream);
    expect(Array.from(packed.ids.subarray(18))).toEqual(new Array(6).fill(2)); // pad = EOS when no pad token
    expect(Array.from(packed.docs)).toEqual([0, 0, 5, 0, 5, 13]);
    expect(packed.maxId).toBe(Math.max(...stream));
  });

  test("no BOS when the tokenizer adds none; explicit pad id", () => {
    const packed = packDocuments(["ab"], fakeTokenizer({ addBos: false, padId: 0 }), { seqLen: 6 });
    expect(Array.from(packed.ids)).toEqual([...ids("ab"), 2, 0, 0, 0]);
    expect(Array.from(packed.lengths)).toEqual([3]);
  });

  test("a document longer than many rows; all-empty unit gives no rows", () => {
    const packed = packDocuments(["x".repeat(20)], tok, { seqLen: 4, encodeBatch: 1 });
    expect(packed.numSequences).toBe(6); // 22 tokens
    expect(Array.from(packed.docs)).toEqual([0, 0, 22]);
    const empty = packDocuments(["", null], tok, { seqLen: 4 });
    expect([empty.numSequences, empty.ids.length, empty.skipped]).toEqual([0, 0, 2]);
  });
});

describe("unit file", () => {
  const packed = packDocuments(["some text", "more text here"], tok, { seqLen: 7 });
  const loss = Float32Array.from({ length: packed.numSequences * 6 }, (_, i) => (i * 0.37) % 11);

  test("f32 round trip is exact, sections 8-byte aligned", () => {
    const bytes = encodeUnit(packed, loss, "f32", 2);
    const view = decodeUnit(bytes, "mem");
    expect(Array.from(view.ids)).toEqual(Array.from(packed.ids));
    expect(Array.from(view.loss)).toEqual(Array.from(loss));
    expect(Array.from(view.lengths)).toEqual(Array.from(packed.lengths));
    expect(Array.from(view.docs)).toEqual(Array.from(packed.docs));
    expect([view.rows, view.skipped, view.tokens]).toEqual([2, 0, packed.tokens]);
    const layout = unitLayout(7, packed.numSequences, 2, "f32");
    for (const o of [layout.lossOffset, layout.lengthsOffset, layout.docsOffset, layout.bytes])
      expect(o % 8).toBe(0);
  });

  test("f16 stores losses to half precision", () => {
    const view = decodeUnit(encodeUnit(packed, loss, "f16", 2), "mem");
    expect(view.loss).toBeInstanceOf(Float16Array);
    for (let i = 0; i < loss.length; i++)
      expect(Math.abs(view.loss[i] - loss[i])).toBeLessThanOrEqual(loss[i] * 2 ** -11 + 1e-7);
  });

  test("truncated or foreign bytes are refused", () => {
    const bytes = encodeUnit(packed, loss, "f32", 2);
    expect(() => decodeUnit(bytes.slice(0, bytes.length - 8), "u.bin")).toThrow("its header implies");
    const foreign = bytes.slice();
    foreign[0] = 0x41;
    expect(() => decodeUnit(foreign, "u.bin")).toThrow("bad magic");
  });
});
