/**
 * `symbolic_equal` of the harness's grader.py, emulating sympy 1.12's `parse_latex` semantics on top of the
 * LaTeX parser of @cortex-js/compute-engine (standalone `latex-syntax` entry: LaTeX -> MathJSON, no engine).
 *
 * Pinned-harness semantics reproduced here (spec §6.1):
 * - `\pi`, `e`, `i` are FREE symbols (not constants): `\pi/2` equals `\frac{\pi}{2}`, but a decimal never
 *   equals a π-expression.
 * - juxtaposition is multiplication (`1\frac{4}{5}` is 4/5), `:` is division, `\displaystyle` is a symbol factor,
 *   a subscript on a number is dropped (`52_8` is 52), multi-letter words are products of letters.
 * - equality: same value at random points of the free symbols (sympy's `simplify(a-b) == 0`), or, with no free
 *   symbols, `math.isclose(float(N(a)), float(N(b)), rel_tol=1e-4)`; equations compare |lhs-rhs|.
 * - a string that does not parse stays a string and only equals the identical string.
 */
import { parse } from "@cortex-js/compute-engine/latex-syntax";

type Json = unknown;

/** An expression we can evaluate: a function of the free-symbol assignment. */
interface Expr {
  kind: "expr";
  symbols: Set<string>;
  eval(env: Map<string, number>): number;
}
interface Equation {
  kind: "eq";
  lhs: Expr;
  rhs: Expr;
}
interface MatrixValue {
  kind: "matrix";
  rows: Expr[][];
}
type Parsed = Expr | Equation | MatrixValue;

class Unsupported extends Error {}

const constant = (v: number): Expr => ({ kind: "expr", symbols: new Set(), eval: () => v });
const symbol = (name: string): Expr => ({
  kind: "expr",
  symbols: new Set([name]),
  eval: (env) => env.get(name) as number,
});

function combine(args: Expr[], f: (values: number[]) => number): Expr {
  const symbols = new Set<string>();
  for (const a of args) for (const s of a.symbols) symbols.add(s);
  return { kind: "expr", symbols, eval: (env) => f(args.map((a) => a.eval(env))) };
}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) return Number.NaN;
  if (n > 170) return Number.POSITIVE_INFINITY;
  let r = 1;
  for (let i = 2; i <= n; i++) r *= i;
  return r;
}

const UNARY: Record<string, (x: number) => number> = {
  Sqrt: Math.sqrt,
  Square: (x) => x * x,
  Negate: (x) => -x,
  Exp: Math.exp,
  Ln: Math.log,
  Lb: Math.log2,
  Lg: Math.log10,
  Abs: Math.abs,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Factorial: factorial,
  Sin: Math.sin,
  Cos: Math.cos,
  Tan: Math.tan,
  Cot: (x) => 1 / Math.tan(x),
  Sec: (x) => 1 / Math.cos(x),
  Csc: (x) => 1 / Math.sin(x),
  Arcsin: Math.asin,
  Arccos: Math.acos,
  Arctan: Math.atan,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
  Tanh: Math.tanh,
};

const INVERSE: Record<string, (x: number) => number> = { Sin: Math.asin, Cos: Math.acos, Tan: Math.atan };

// Names the LaTeX parser gives to letters that sympy's parse_latex treats as plain symbols.
const SYMBOL_ALIASES: Record<string, string> = { Pi: "pi", ExponentialE: "e", ImaginaryUnit: "i" };

function toExpr(node: Json): Expr {
  const p = toParsed(node);
  if (p.kind !== "expr") throw new Unsupported("not a scalar");
  return p;
}

function toParsed(node: Json): Parsed {
  if (typeof node === "number") return constant(node);
  if (typeof node === "string") {
    if (node.startsWith("'")) throw new Unsupported("text");
    if (node === "PositiveInfinity") return constant(Number.POSITIVE_INFINITY);
    if (node === "NegativeInfinity") return constant(Number.NEGATIVE_INFINITY);
    if (node === "Nothing" || node === "Undefined" || node === "NaN") throw new Unsupported(node);
    return symbol(SYMBOL_ALIASES[node] ?? node);
  }
  if (node !== null && typeof node === "object" && !Array.isArray(node)) {
    const num = (node as { num?: unknown }).num;
    if (typeof num === "string") {
      // A repeating decimal "0.(3)" has no sympy parse_latex counterpart: leave it unparsed.
      const v = Number(num);
      if (Number.isNaN(v)) throw new Unsupported("num");
      return constant(v);
    }
    const sym = (node as { sym?: unknown }).sym;
    if (typeof sym === "string") return toParsed(sym);
    // MathJSON's object forms: {fn: [...]} for a function (with sourceOffsets), {str: ...} for text
    const fn = (node as { fn?: unknown }).fn;
    if (Array.isArray(fn)) return toParsed(fn);
    throw new Unsupported("object");
  }
  if (!Array.isArray(node) || typeof node[0] !== "string") throw new Unsupported("shape");
  const [head, ...args] = node as [string, ...Json[]];
  switch (head) {
    case "Add":
      return combine(args.map(toExpr), (v) => v.reduce((a, b) => a + b, 0));
    case "Subtract":
      return combine(args.map(toExpr), (v) =>
        v.length === 1 ? -(v[0] as number) : (v[0] as number) - (v[1] as number),
      );
    case "Multiply":
    case "InvisibleOperator":
      return combine(args.map(toExpr), (v) => v.reduce((a, b) => a * b, 1));
    case "Divide":
    case "Colon":
    case "Rational":
      if (args.length !== 2) throw new Unsupported(head);
      return combine(args.map(toExpr), ([a, b]) => (a as number) / (b as number));
    case "Power": {
      // sympy's parse_latex reads \sin^{-1} x as asin(x); the LaTeX parser gives (sin x)^-1.
      const [base, exp] = args;
      const minusOne = exp === -1 || (Array.isArray(exp) && exp[0] === "Negate" && exp[1] === 1);
      const fn = Array.isArray(base) ? (base as Json[]) : null;
      const inverse = fn && typeof fn[0] === "string" ? INVERSE[fn[0]] : undefined;
      if (minusOne && inverse && fn?.length === 2)
        return combine([toExpr(fn[1])], ([x]) => inverse(x as number));
      return combine(args.map(toExpr), ([a, b]) => (a as number) ** (b as number));
    }
    case "Root":
      return combine(args.map(toExpr), ([a, n]) => (a as number) ** (1 / (n as number)));
    case "Log":
      return combine(args.map(toExpr), (v) =>
        v.length === 1 ? Math.log(v[0] as number) : Math.log(v[0] as number) / Math.log(v[1] as number),
      );
    case "Binomial":
      return combine(
        args.map(toExpr),
        ([n, k]) =>
          factorial(n as number) / (factorial(k as number) * factorial((n as number) - (k as number))),
      );
    case "Delimiter":
    case "Sequence":
      if (
        args.length !== 1 ||
        (head === "Delimiter" && Array.isArray(args[0]) && args[0][0] === "Sequence" && args[0].length !== 2)
      )
        throw new Unsupported("tuple");
      return toParsed(args[0]);
    case "Annotated": // `\displaystyle x` is the product displaystyle*x under sympy's parse_latex
      return combine([symbol("displaystyle"), toExpr(args[0])], ([a, b]) => (a as number) * (b as number));
    case "Equal":
      if (args.length !== 2) throw new Unsupported("chain");
      return { kind: "eq", lhs: toExpr(args[0]), rhs: toExpr(args[1]) };
    case "Matrix": {
      const list = args[0];
      if (!Array.isArray(list) || list[0] !== "List") throw new Unsupported("matrix");
      const rows = (list.slice(1) as Json[]).map((row) => {
        if (!Array.isArray(row) || row[0] !== "List") throw new Unsupported("matrix row");
        return (row.slice(1) as Json[]).map(toExpr);
      });
      return { kind: "matrix", rows };
    }
    default: {
      const f = UNARY[head];
      if (f && args.length === 1) return combine([toExpr(args[0])], ([x]) => f(x as number));
      throw new Unsupported(head);
    }
  }
}

function hasError(node: Json): boolean {
  if (Array.isArray(node)) return node[0] === "Error" || node.some(hasError);
  if (node !== null && typeof node === "object") return hasError((node as { fn?: unknown }).fn);
  return false;
}

/** sympy's parse_latex drops the subscript of a number (`52_8` is 52); the LaTeX parser would read base 8. */
function dropNumberSubscripts(s: string): string {
  return s.replace(/(\d)_(\{[^{}]*\}|\w)/g, "$1");
}

function parseOnce(s: string): Parsed | null {
  try {
    const json = parse(dropNumberSubscripts(s));
    if (json === null || hasError(json)) return null;
    return toParsed(json);
  } catch {
    return null;
  }
}

/** `_parse`: first with doubled backslashes collapsed, then as is; null means "stays a string". */
export function parseLatexExpr(s: string): Parsed | null {
  const collapsed = s.replaceAll("\\\\", "\\");
  // Without a doubled backslash both attempts read the same text: a failure need not be parsed again.
  return parseOnce(collapsed) ?? (collapsed === s ? null : parseOnce(s));
}

/** Deterministic sample points for the free symbols (an identity holds at all of them; a non-identity fails). */
const SAMPLES = [0.7317, 1.3903, 0.5171, 2.2209, 1.1137];

function sameAtSamples(
  a: Expr,
  b: Expr,
  relTol: number,
  transform: (x: number) => number = (x) => x,
): boolean {
  const names = [...new Set([...a.symbols, ...b.symbols])].sort();
  let compared = 0;
  for (let k = 0; k < SAMPLES.length; k++) {
    const env = new Map<string, number>();
    names.forEach((n, j) => {
      env.set(n, (SAMPLES[(k + j) % SAMPLES.length] as number) + 0.1 * j);
    });
    const x = transform(a.eval(env));
    const y = transform(b.eval(env));
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!close(x, y, relTol)) return false;
    compared++;
  }
  return compared > 0;
}

/** Python math.isclose(a, b, rel_tol) with abs_tol 0. */
export function close(a: number, b: number, relTol: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
}

const EXACT = 1e-9;

function exprEqual(a: Expr, b: Expr): boolean {
  // sympy's equals/simplify: exact (up to float noise) identity over the free symbols.
  if (sameAtSamples(a, b, EXACT)) return true;
  // float(N(a)) only works without free symbols (π is a symbol here, so π-expressions never reach this).
  if (a.symbols.size === 0 && b.symbols.size === 0) return close(a.eval(new Map()), b.eval(new Map()), 1e-4);
  return false;
}

/** grader.py `symbolic_equal(a, b)`. */
export function symbolicEqual(a: string, b: string): boolean {
  const pa = parseLatexExpr(a);
  const pb = parseLatexExpr(b);
  if (pa === null || pb === null) return pa === null && pb === null && a === b;
  if (pa.kind === "expr" && pb.kind === "expr") return exprEqual(pa, pb);
  if (pa.kind === "eq" && pb.kind === "eq") {
    const da = combine([pa.lhs, pa.rhs], ([l, r]) => (l as number) - (r as number));
    const db = combine([pb.lhs, pb.rhs], ([l, r]) => (l as number) - (r as number));
    return (
      (sameAtSamples(pa.lhs, pb.lhs, EXACT) && sameAtSamples(pa.rhs, pb.rhs, EXACT)) ||
      sameAtSamples(da, db, EXACT, Math.abs)
    );
  }
  if (pa.kind === "matrix" && pb.kind === "matrix") {
    if (pa.rows.length !== pb.rows.length) return false;
    return pa.rows.every((row, i) => {
      const other = pb.rows[i] as Expr[];
      if (row.length !== other.length) return false;
      return row.every((cell, j) => {
        const o = other[j] as Expr;
        if (sameAtSamples(cell, o, EXACT)) return true;
        if (cell.symbols.size > 0 || o.symbols.size > 0) return false;
        const r3 = (x: number) => Math.round(x * 1000) / 1000;
        return r3(cell.eval(new Map())) === r3(o.eval(new Map()));
      });
    });
  }
  return false;
}
