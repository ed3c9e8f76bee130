import { describe, expect, test } from "bun:test";
import { isDigit, mathEqual, parseDigits, strToPmatrix } from "./grader.ts";
import { pyFloat, pyFloatStr, pyStrRepr } from "./python.ts";
import { symbolicEqual } from "./symbolic.ts";

const eq = (a: string | null, b: string) => mathEqual(a, b);

describe("numeric branch (spec §6 step 2, §9.1)", () => {
  test("percentage variants on every dataset", () => {
    expect(eq("2500", "25")).toBe(true);
    expect(eq("3", "300")).toBe(true);
    expect(eq("18", "1800")).toBe(true);
    expect(eq("8", "800")).toBe(true);
    expect(eq("0.02", "2")).toBe(true);
    expect(eq("250", "26")).toBe(false);
  });
  test("rel_tol 1e-4, abs_tol 0, no symbolic fallback once both are numbers", () => {
    expect(eq("326.53", "326.5")).toBe(true);
    expect(eq("326.6", "326.5")).toBe(false);
    expect(eq("0", "1e-9")).toBe(false);
    expect(eq("1,000", "1000")).toBe(true);
  });
  test("Python float(): underscores, inf, exponents, whitespace, %", () => {
    expect(parseDigits("52_8")).toBe(528);
    expect(parseDigits("1e3")).toBe(1000);
    expect(parseDigits(" +3 ")).toBe(3);
    expect(parseDigits("inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseDigits("12\\%")).toBeCloseTo(0.12, 12);
    expect(parseDigits("12%")).toBeCloseTo(0.12, 12);
    expect(isDigit("1_")).toBe(false);
    expect(isDigit("_1")).toBe(false);
    expect(isDigit("1.2.3")).toBe(false);
    expect(pyFloat("")).toBeNull();
    expect(eq("4.67", "\\frac{14}{3}")).toBe(false);
  });
});

describe("string, bracket, tuple, matrix, equation branches", () => {
  test("None and empty are wrong", () => {
    expect(eq(null, "5")).toBe(false);
    expect(eq("", "5")).toBe(false);
    expect(eq(null, "None")).toBe(true); // str(None) == "None" (string identity comes first)
  });
  test("bracket- and case-insensitive", () => {
    expect(eq("C", "(C)")).toBe(true);
    expect(eq("52_{8}", "52_8")).toBe(true);
    expect(eq("\\text{Evelyn}", "\\text{evelyn}")).toBe(true);
  });
  test("tuples and intervals: bracket type ignored, order matters", () => {
    expect(eq("(3,4)", "(3,4]")).toBe(true);
    expect(eq("[3,4]", "(3,4)")).toBe(true);
    expect(eq("(0,\\infty)", "[0,\\infty)")).toBe(true);
    expect(eq("(4,3)", "(3,4)")).toBe(false);
    expect(eq("(1,\\frac{1}{2})", "(1,0.5)")).toBe(true);
  });
  test("matrices, and pmatrix coercion of a {a,b} gold", () => {
    expect(eq("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2.0\\end{pmatrix}")).toBe(true);
    expect(eq("\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}")).toBe(
      true,
    );
    // a pmatrix prediction coerces a gold without "pmatrix" through str_to_pmatrix (no comma: it becomes "")
    expect(eq("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}")).toBe(
      false,
    );
    expect(eq("\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}")).toBe(
      false,
    );
    expect(strToPmatrix("{1,2}")).toBe("\\begin{pmatrix}1\\2\\end{pmatrix}");
  });
  test("equations", () => {
    expect(eq("-5x+7y-11z-4=0", "5x-7y+11z+4=0")).toBe(true);
    expect(eq("y=2x+1", "y-2x=1")).toBe(true);
    expect(eq("k=5", "5")).toBe(true);
    expect(eq("5", "x=5")).toBe(true);
    expect(eq("80+150=230", "230")).toBe(false);
  });
});

describe("symbolic_equal with the pinned sympy semantics (spec §6.1)", () => {
  test("fractions, radicals, decimals", () => {
    expect(eq("4.6667", "\\frac{14}{3}")).toBe(true);
    expect(eq("10.8167", "3\\sqrt{13}")).toBe(true);
    expect(eq("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}")).toBe(true);
    expect(eq("\\frac{1}{2}", "\\frac{1}{3}")).toBe(false);
  });
  test("π is a free symbol: π-expressions match each other, never a decimal", () => {
    expect(eq("\\pi/2", "\\frac{\\pi}{2}")).toBe(true);
    expect(eq("2\\pi", "2 \\pi")).toBe(true);
    expect(eq("3.14159", "\\pi")).toBe(false);
    expect(eq("1.5708", "\\frac{\\pi}{2}")).toBe(false);
  });
  test("':' is division, juxtaposition is multiplication (mixed numbers)", () => {
    expect(eq("15:18", "5:6")).toBe(true);
    expect(eq("\\frac{4}{5}", "1\\frac{4}{5}")).toBe(true);
    expect(eq("9/5", "1\\frac{4}{5}")).toBe(false);
    expect(eq("137.5", "137\\frac{1}{2}")).toBe(false);
    expect(eq("68.5", "137\\frac{1}{2}")).toBe(true);
    expect(eq("864", "864^2")).toBe(false);
  });
  test("polynomial identities, letters as symbols", () => {
    expect(eq("x^2+2x+1", "(x+1)^2")).toBe(true);
    expect(eq("x^2+2x", "(x+1)^2")).toBe(false);
    expect(eq("\\frac{11+9a}{20}", "\\frac{9a+11}{20}")).toBe(true);
  });
  test("doubled backslashes are collapsed before parsing", () => {
    expect(eq("\\\\frac{4}{9}", "\\frac{4}{9}")).toBe(true);
    expect(eq("\\\\frac{11+9a}{20}", "\\frac{11+9a}{20}")).toBe(true);
  });
  test("\\displaystyle is a symbol factor (pinned: False)", () => {
    expect(eq("\\displaystyle\\frac{3\\sqrt3}{4}", "\\frac{3\\sqrt3}{4}")).toBe(false);
  });
  test("unparsable strings only equal themselves", () => {
    expect(symbolicEqual("5.Ihope", "5")).toBe(false);
    expect(symbolicEqual("\\$\\$", "\\$\\$")).toBe(true);
  });
  test("functions, roots, factorials, floor", () => {
    expect(eq("\\sqrt[3]{8}", "2")).toBe(true);
    expect(eq("5!", "120")).toBe(true);
    expect(eq("\\binom{5}{2}", "10")).toBe(true);
    expect(eq("6\\div 3", "2")).toBe(true);
    expect(eq("\\lfloor 2.5\\rfloor", "2")).toBe(true);
    expect(eq("2^{10}", "1024")).toBe(true);
    expect(eq("\\cos^{-1}(0.5)", "1.0472")).toBe(true); // acos, as sympy's parse_latex reads it
    expect(eq("\\sin^2(0.5)", "0.229849")).toBe(true);
    expect(eq("\\log_{2}8", "3")).toBe(true);
    expect(eq("0.\\overline{3}", "\\frac{1}{3}")).toBe(false); // no sympy counterpart: left unparsed
  });
  test("e and i are symbols, not constants", () => {
    expect(eq("2.71828", "e")).toBe(false);
    expect(eq("2i", "2i")).toBe(true);
    expect(eq("3+2i", "2i+3")).toBe(true);
  });
});

describe("Python value printing", () => {
  test("str(float)", () => {
    expect(pyFloatStr(145)).toBe("145.0");
    expect(pyFloatStr(1e-5)).toBe("1e-05");
    expect(pyFloatStr(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(pyFloatStr(0.3)).toBe("0.3");
    expect(pyFloatStr(1e16)).toBe("1e+16");
    expect(pyFloatStr(123456789.5)).toBe("123456789.5");
    expect(pyFloatStr(0.0001)).toBe("0.0001");
    expect(pyFloatStr(-2.5e-7)).toBe("-2.5e-07");
  });
  test("repr(str) quotes", () => {
    expect(pyStrRepr("yes")).toBe("'yes'");
    expect(pyStrRepr("men's")).toBe('"men\'s"');
    expect(pyStrRepr(`a'b"c`)).toBe(`'a\\'b"c'`);
  });
});
