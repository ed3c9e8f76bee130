import { describe, expect, test } from "bun:test";
import { fixASlashB, fixFracs, fixSqrt, stripString, stripTimes, UNIT_TEXTS } from "./strip-string.ts";
import { Word2NumberError, wordToNum } from "./word2number.ts";

const cases = (pairs: [string, string][]) => {
  for (const [input, expected] of pairs) expect([input, stripString(input)]).toEqual([input, expected]);
};

describe("strip_string rules in order (spec §5)", () => {
  test("1-3: strip, newlines, every trailing dot", () =>
    cases([
      ["  5\n0...", "50"],
      ["7 .", "7"],
    ]));
  test("4: thin negative space", () => cases([["1\\!000", "1000"]]));
  test("5: array/bmatrix become pmatrix", () =>
    cases([
      ["\\begin{array}{cc}1&2\\end{array}", "\\begin{pmatrix}1&2\\end{pmatrix}"],
      ["\\begin{bmatrix}1\\\\2\\end{bmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"],
    ]));
  test("6: tfrac/dfrac", () =>
    cases([
      ["\\dfrac{1}{2}", "\\frac{1}{2}"],
      ["\\tfrac{3}{4}", "\\frac{3}{4}"],
    ]));
  test("7: \\left/\\right removed, also from \\leftarrow; \\{ \\} unescaped", () =>
    cases([
      ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"],
      ["\\{1,2\\}", "{1,2}"],
      ["x\\rightarrow", "xarrow"],
    ]));
  test("8: trailing \\text{} unit, leftmost match, not when it would empty the string", () =>
    cases([
      ["5.4 \\text{ cents}", "5.4"],
      ["x \\text{ cm} + 2\\text{ cm}", "x"],
      ["\\text{(C)}", "(C)"],
    ]));
  test("9: unit words (case-sensitive, unescaped, twice)", () => {
    cases([
      ["5 apples", "5"],
      ["25 miles", "25"],
      ["540 meters", "540"],
      ["160 minutes", "160"],
      ["6 mph", "6"],
      ["-10 degrees", "-10"],
      ["3 hours", "3"],
      ["4 units", "4"],
      ["18 dollars", "18dollars"],
      ["19 pounds", "19pounds"],
      ["46 cents", "46cents"],
      ["2 boxes", "2boxes"],
      ["20 years old", "20old"],
      ["1.33 weeks", "1.33weeks"],
      ["5 bags", "5bags"],
      ["\\text{east}", ""],
      ["1 \\pm \\sqrt{19}", "1\\\\sqrt{19}"],
      ["(a+5)", "(+5)"],
      ["ab = 5", "5"],
      ["5 Apples", "5Apples"],
      ["m m 5", "5"],
      ["5 p_m", "5p_m"],
    ]);
    // east and west are both removed, so the answers compare equal
    expect(stripString("10 miles east")).toBe("10");
    expect(stripString("10 miles west")).toBe("10");
    // "." in "p . m" is a wildcard (the harness does not escape entries)
    expect(stripString("3:30 p x m")).toBe("3:30");
  });
  test("9: Unicode \\W (Python), not ASCII \\W: an accented letter is a word character", () => {
    // With JS's ASCII \W, "é" would count as a boundary and "a" would be removed.
    expect(stripString("éa 5")).toBe("éa5");
    expect(stripString("5 ° f")).toBe("5");
  });
  test("unit list: 132 entries then the same with 's', duplicates kept", () => {
    expect(UNIT_TEXTS.length).toBe(264);
    expect(UNIT_TEXTS[0]).toBe("east");
    expect(UNIT_TEXTS[6]).toBe(" m east");
    expect(UNIT_TEXTS[131]).toBe("inch");
    expect(UNIT_TEXTS[132]).toBe("easts");
    expect(UNIT_TEXTS.filter((u) => u === "kmph").length).toBe(2);
    expect(UNIT_TEXTS.filter((u) => u === "sec").length).toBe(2);
    expect(UNIT_TEXTS).toContain("m sqaure");
  });
  test("10-11: degrees and dollars", () =>
    cases([
      ["90^{\\circ}", "90"],
      ["90^\\circ", "90"],
      ["\\$18.50", "18.50"],
      ["$5$", "5"],
    ]));
  test("12: word2number on the whole string", () =>
    cases([
      ["eighteen", "18"],
      ["twenty five", "25"],
      ["one point five", "1.5"],
      ["1.45 million", "1000000"],
      ["2 thousand", "1000"],
      ["007", "7"],
    ]));
  test("13-14: \\text unwrapped; x=, \\in, \\to removed as substrings", () =>
    cases([
      ["\\text{Evelyn}", "Evelyn"],
      ["x=5", "5"],
      ["y\\in[1,2]", "[1,2]"],
      ["x\\to0", "0"],
    ]));
  test("15-16: emptyset, whole line, percent", () =>
    cases([
      ["\\emptyset", "{}"],
      ["(-\\infty,\\infty)", "\\mathbb{R}"],
      ["50\\%", "50"],
      ["25%", "25"],
    ]));
  test("17: leading-dot decimals", () =>
    cases([
      ["x= .5", "0.5"],
      ["\\frac{.5}{2}", "\\frac{0.5}{2}"],
      [".5", "0.5"],
    ]));
  test("19: infinity", () =>
    cases([
      ["infinity", "\\infty"],
      ["-inf", "-\\infty"],
      ["(2,\\infty)", "(2,\\infty)"],
    ]));
  test("20-21: 'and' even inside words, \\mathbf, \\mbox{}", () =>
    cases([
      ["candy", "cy"],
      ["\\mathbf{v}", "{v}"],
      ["864 \\mbox{ inches}^2", "864^2"],
    ]));
  test("23: j becomes i when there is no i", () =>
    cases([
      ["3+2j", "3+2i"],
      ["ij", "ij"],
    ]));
  test("24: trailing-zero decimals", () =>
    cases([
      ["18.00", "18"],
      ["145.0", "145"],
      ["2.0x", "2x"],
      ["0.50", "0.50"],
      ["3.10", "3.10"],
    ]));
  test("26: short left side of one '='", () =>
    cases([
      ["x = 5", "5"],
      ["k=3", "3"],
      ["abc=3", "abc=3"],
      ["a=b=c", "=b="],
    ]));
  test("27: _fix_sqrt (greedy \\w+)", () => {
    expect(fixSqrt("\\sqrt2")).toBe("\\sqrt{2}");
    expect(fixSqrt("\\sqrt2x")).toBe("\\sqrt{2x}");
    expect(stripString("3\\sqrt 2")).toBe("3\\sqrt2");
  });
  test("29: _fix_fracs", () => {
    expect(fixFracs("\\frac12")).toBe("\\frac{1}{2}");
    expect(fixFracs("\\frac1{72}")).toBe("\\frac{1}{72}");
    expect(fixFracs("\\frac{270}7")).toBe("\\frac{270}7");
    expect(fixFracs("\\frac{\\sqrt6}3")).toBe("\\frac{\\sqrt6}3");
    expect(fixFracs("\\frac12+\\frac3")).toBe("\\frac12+\\frac3"); // 1-char tail: the original is returned
  });
  test("30: _fix_a_slash_b", () => {
    expect(fixASlashB("14/3")).toBe("\\frac{14}{3}");
    expect(fixASlashB("\\sqrt{3}/2")).toBe("\\frac{\\sqrt{3}}{2}");
    expect(fixASlashB("-1/3")).toBe("\\frac{-1}{3}");
    expect(fixASlashB("1.5/2")).toBe("1.5/2");
    expect(fixASlashB("x/2")).toBe("x/2");
    expect(fixASlashB("03/4")).toBe("03/4"); // int("03") prints back as "3": not the same string
    expect(fixASlashB("1/2/3")).toBe("1/2/3");
  });
  test("not idempotent: pass counts matter", () => {
    expect(stripTimes("3:30 p.m.", 1)).toBe("3:30p.");
    expect(stripTimes("3:30 p.m.", 2)).toBe("3:30p");
    expect(stripTimes("x \\in [-2,7]", 1)).toBe("x\\in[-2,7]");
    expect(stripTimes("x \\in [-2,7]", 2)).toBe("[-2,7]");
  });
});

describe("word2number 1.1 port", () => {
  test("spec table", () => {
    expect(wordToNum("eighteen")).toBe("18");
    expect(wordToNum("twenty five")).toBe("25");
    expect(wordToNum("one point five")).toBe("1.5");
    expect(wordToNum("1.45 million")).toBe("1000000");
    expect(wordToNum("2 thousand")).toBe("1000");
    expect(wordToNum("point")).toBe("0");
    expect(() => wordToNum("18 dollars")).toThrow(Word2NumberError);
  });
  test("scales, hyphens, case, decimals", () => {
    expect(wordToNum("Two-Hundred")).toBe("200");
    expect(wordToNum("two million three hundred thousand five")).toBe("2300005");
    expect(wordToNum("one point zero")).toBe("1.0");
    expect(wordToNum("one point twenty")).toBe("1"); // a non-digit word after "point" makes the decimal 0
    expect(wordToNum("twelve apples")).toBe("12");
  });
  test("raises like the library", () => {
    expect(() => wordToNum("thousand thousand")).toThrow(Word2NumberError);
    expect(() => wordToNum("one thousand two million")).toThrow(Word2NumberError);
    expect(() => wordToNum("thousand five")).toThrow(Word2NumberError); // number_formation([]) IndexError
    expect(() => wordToNum("constructor")).toThrow(Word2NumberError);
    expect(() => wordToNum("")).toThrow(Word2NumberError);
  });
});
