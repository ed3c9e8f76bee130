import { expect, test } from "bun:test";
import { extractPrediction, gradeCompletion } from "./grade.ts";
import { pyFloat, pyInt, pyIsDigit, pyRstrip, pySplit, pyStrip } from "./python.ts";
import { convertWordNumber, fixASlashB, stripString } from "./strip-string.ts";

// Every expected value below was printed by CPython 3.11 (/usr/bin/python3): float(s), int(s), s.isdigit(), s.strip().

test("float() and int() read any script's decimal digits; other digits and stray separators raise", () => {
  const cases: [string, number | null, bigint | null, boolean][] = [
    ["٣", 3, 3n, true],
    ["５.５", 5.5, null, false],
    ["١٢", 12, 12n, true],
    ["²", null, null, true],
    ["①", null, null, true],
    ["  ٤٢  ", 42, 42n, false],
    ["1_000", 1000, 1000n, false],
    ["1__0", null, null, false],
    ["+٧", 7, 7n, false],
    ["", null, null, false],
  ];
  for (const [s, float, int, isdigit] of cases) {
    expect([s, pyFloat(s)]).toEqual([s, float]);
    expect([s, pyInt(s)]).toEqual([s, int]);
    expect([s, pyIsDigit(s)]).toEqual([s, isdigit]);
  }
});

test("whitespace is Python's: strip() takes U+001C–U+001F and U+0085, not U+FEFF; int()/float() skip U+001C–U+001F", () => {
  expect(pyStrip(" \x1c\x1d\x1e\x1fa\x85\u3000")).toBe("a");
  expect(pyStrip("\ufeffa\ufeff")).toBe("\ufeffa\ufeff");
  expect(pyRstrip("a \x85")).toBe("a");
  expect(pySplit("a \x85b\x1cc")).toEqual(["a", "b", "c"]);
  for (const [s, v] of [
    ["\x1c7", null],
    ["\x1f7", null],
    ["7\x85", 7],
    ["\x857", 7],
    ["\xa07\u3000", 7],
    ["\t7\n", 7],
  ] as const) {
    expect([s, pyFloat(s)]).toEqual([s, v]);
    expect([s, pyInt(s)]).toEqual([s, v === null ? null : BigInt(v)]);
  }
  expect(pyFloat("\ufeff7")).toBeNull();
});

test("integers past 2^53 stay exact: 12345678901234567890/3 becomes \\frac", () => {
  expect(pyInt("12345678901234567890")).toBe(12345678901234567890n);
  expect(fixASlashB("12345678901234567890/3")).toBe("\\frac{12345678901234567890}{3}");
  expect(stripString("12345678901234567890/3")).toBe("\\frac{12345678901234567890}{3}");
  // int() accepts "٣" but str(3) != "٣", so the harness's assert keeps the text
  expect(fixASlashB("٣/٤")).toBe("٣/٤");
  expect(fixASlashB("03/4")).toBe("03/4");
});

test("word2number: isdigit() then int(); a digit int() refuses leaves the text unchanged", () => {
  expect(convertWordNumber("٣")).toBe("3");
  expect(convertWordNumber("٠٤٢")).toBe("42");
  expect(convertWordNumber("²")).toBe("²");
  expect(convertWordNumber("five\x85hundred")).toBe("500");
});

test("a completion that is exactly 'error' is None in run_execute", () => {
  expect(extractPrediction("gsm8k", "error")).toBeNull();
  expect(extractPrediction("gsm8k", "  error \n")).toBeNull();
  expect(extractPrediction("gsm8k", "error", "strict")).toBeNull();
  expect(extractPrediction("gsm8k", "error 4")).toBe("4");
  expect(gradeCompletion("gsm8k", { question: "q", answer: "#### 0" }, "error")).toEqual({
    pred: null,
    gold: "0",
    correct: false,
  });
  // an Eastern Arabic numeral answer is graded as the number it is
  expect(gradeCompletion("gsm8k", { question: "q", answer: "#### 12" }, "The answer is ١٢.").correct).toBe(
    true,
  );
});
