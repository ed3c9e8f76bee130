import { describe, expect, test } from "bun:test";
import { excessLoss, selectionDenominator, selectParts, selectSequences, targetValidity } from "./batch.ts";
import { selectTokens } from "./select.ts";

describe("selection over a batch in parts", () => {
  test("targetValidity: mask[t]·mask[t+1]·extra[t]", () => {
    const mask = [1, 1, 1, 0, 1, 1, 1, 1];
    const extra = [1, 1, 1, 1, 0, 1];
    expect(Array.from(targetValidity(2, 4, mask, extra))).toEqual([1, 1, 0, 1, 0, 1]);
    expect(Array.from(targetValidity(1, 3))).toEqual([1, 1]);
  });

  test("excessLoss is ce − ref on valid tokens, 0 elsewhere, ce alone without ref", () => {
    const part = { rows: 1, ce: [3, 2, 5], ref: [1, 4, 2], valid: [1, 1, 0] };
    expect(Array.from(excessLoss(part))).toEqual([2, -2, 0]);
    expect(Array.from(excessLoss({ ...part, ref: undefined }))).toEqual([3, 2, 0]);
  });

  test("ranking two parts together equals ranking their concatenation; the denominator counts the whole batch", () => {
    const a = { rows: 1, ce: [5, 1, 4, 2], ref: [0, 0, 0, 0], valid: [1, 1, 1, 1] };
    const b = { rows: 1, ce: [3, 9, 0, 7], ref: [0, 0, 0, 0], valid: [1, 1, 0, 1] };
    const { selected } = selectParts([a, b], 4, 0.5, "batch");
    const whole = selectTokens(
      new Float32Array([...a.ce, ...b.ce]),
      new Float32Array([...a.valid, ...b.valid]),
      2,
      4,
      0.5,
      "batch",
    );
    expect([...selected[0], ...selected[1]]).toEqual(Array.from(whole));
    // 7 valid tokens: floor(0.5·7) = 3 kept, the three largest: 9, 7, 5.
    expect(Array.from(selected[0])).toEqual([1, 0, 0, 0]);
    expect(Array.from(selected[1])).toEqual([0, 1, 0, 1]);
    expect(selectionDenominator([a, b], 4, 0.5, "batch")).toBe(3);
    // Per sequence: floor(0.5·4) + floor(0.5·3) = 3; with ratio 0.3: max(1, 1) + max(1, 0) = 2.
    expect(selectionDenominator([a, b], 4, 0.5, "sequence")).toBe(3);
    expect(selectionDenominator([a, b], 4, 0.3, "sequence")).toBe(2);
    expect(selectionDenominator([{ rows: 1, valid: [0, 0] }], 2, 0.5, "batch")).toBe(0);
  });

  test("parts of the wrong size are refused", () => {
    expect(() => selectParts([{ rows: 2, ce: [1, 2], valid: [1, 1] }], 2, 0.5, "batch")).toThrow(/part 0/);
  });

  test("selectSequences ranks rows of different lengths as one batch and returns each at its own length", () => {
    const rows = [
      { ce: [4, 1], ref: [0, 0], valid: [1, 1] },
      { ce: [2, 8, 3, 6], ref: [1, 1, 1, 1], valid: [1, 1, 1, 0] },
    ];
    const { excess, selected } = selectSequences(rows, 0.5, "batch");
    expect(excess.map((e) => Array.from(e))).toEqual([
      [4, 1],
      [1, 7, 2, 0],
    ]);
    // 5 valid: keep 2, the excesses 7 and 4.
    expect(selected.map((s) => Array.from(s))).toEqual([
      [1, 0],
      [0, 1, 0, 0],
    ]);
    const perRow = selectSequences(rows, 0.5, "sequence").selected.map((s) => Array.from(s));
    expect(perRow).toEqual([
      [1, 0],
      [0, 1, 0, 0],
    ]);
  });
});
