/**
 * `strip_string` of the harness's parser.py (lines 92-216), every rule in its order. It is not idempotent, so
 * callers apply it exactly as many times as the harness does (see datasets.ts).
 */
import { pyInt, pyRstrip, pyStrip } from "./python.ts";
import { wordToNum } from "./word2number.ts";

/** parser.py `unit_texts`, verbatim (typos, duplicates and the leading space of " m east" included). */
const BASE_UNITS = [
  "east",
  "degree",
  "mph",
  "kmph",
  "ft",
  "m sqaure",
  " m east",
  "sq m",
  "deg",
  "mile",
  "q .",
  "monkey",
  "prime",
  "ratio",
  "profit of rs",
  "rd",
  "o",
  "gm",
  "p . m",
  "lb",
  "tile",
  "per",
  "dm",
  "lt",
  "gain",
  "ab",
  "way",
  "west",
  "a .",
  "b .",
  "c .",
  "d .",
  "e .",
  "f .",
  "g .",
  "h .",
  "t",
  "a",
  "h",
  "no change",
  "men",
  "soldier",
  "pie",
  "bc",
  "excess",
  "st",
  "inches",
  "noon",
  "percent",
  "by",
  "gal",
  "kmh",
  "c",
  "acre",
  "rise",
  "a . m",
  "th",
  "π r 2",
  "sq",
  "mark",
  "l",
  "toy",
  "coin",
  "sq . m",
  "gallon",
  "° f",
  "profit",
  "minw",
  "yr",
  "women",
  "feet",
  "am",
  "pm",
  "hr",
  "cu cm",
  "square",
  "v â € ™",
  "are",
  "rupee",
  "rounds",
  "cubic",
  "cc",
  "mtr",
  "s",
  "ohm",
  "number",
  "kmph",
  "day",
  "hour",
  "minute",
  "min",
  "second",
  "man",
  "woman",
  "sec",
  "cube",
  "mt",
  "sq inch",
  "mp",
  "∏ cm ³",
  "hectare",
  "more",
  "sec",
  "unit",
  "cu . m",
  "cm 2",
  "rs .",
  "rs",
  "kg",
  "g",
  "month",
  "km",
  "m",
  "cm",
  "mm",
  "apple",
  "liter",
  "loss",
  "yard",
  "pure",
  "year",
  "increase",
  "decrease",
  "d",
  "less",
  "Surface",
  "litre",
  "pi sq m",
  "s .",
  "metre",
  "meter",
  "inch",
];
/** `unit_texts.extend([t + "s" for t in unit_texts])`: 264 entries in that order. */
export const UNIT_TEXTS: readonly string[] = [...BASE_UNITS, ...BASE_UNITS.map((t) => `${t}s`)];

// Python 3 `\W` on str is Unicode-aware; JS `\W` is ASCII-only even with /u, hence the explicit class.
const NON_WORD = String.raw`[^\p{L}\p{N}_]`;
// Entries go into the pattern unescaped: "." in "a ." is a wildcard in the harness too.
const UNIT_PATTERNS = UNIT_TEXTS.map((u) => ({
  pattern: new RegExp(`(^|${NON_WORD})${u}($|${NON_WORD})`, "gu"),
  // A match needs the text before the entry's first wildcard "." literally: a cheap test that skips the regex.
  literal: u.split(".")[0] as string,
}));

// Any entry matching anywhere: when none does, both passes below leave the string as it is.
const ANY_UNIT = new RegExp(`(?:^|${NON_WORD})(?:${UNIT_TEXTS.join("|")})(?:$|${NON_WORD})`, "u");

/** parser.py `_fix_fracs`: `\frac12` -> `\frac{1}{2}`; gives up (returns the input) on a 1-character tail. */
export function fixFracs(s: string): string {
  const parts = s.split("\\frac");
  let out = parts[0] as string;
  for (const part of parts.slice(1)) {
    out += "\\frac";
    if (part.startsWith("{")) {
      out += part;
      continue;
    }
    const chars = Array.from(part); // Python indexes code points
    if (chars.length < 2) return s;
    const [a, b] = chars as [string, string];
    const rest = chars.slice(2).join("");
    out += b !== "{" ? `{${a}}{${b}}${rest}` : `{${a}}${b}${rest}`;
  }
  return out;
}

/** parser.py `_fix_a_slash_b`: `14/3` -> `\frac{14}{3}` when both sides are ints (printed back unchanged) or contain sqrt. */
export function fixASlashB(s: string): string {
  const parts = s.split("/");
  if (parts.length !== 2) return s;
  const conv = (x: string): string | null => {
    if (x.includes("sqrt")) return x;
    const n = pyInt(x);
    return n === null ? null : String(n);
  };
  const a = conv(parts[0] as string);
  const b = conv(parts[1] as string);
  if (a === null || b === null || s !== `${a}/${b}`) return s;
  return `\\frac{${a}}{${b}}`;
}

/** parser.py `_fix_sqrt`: `\sqrt2x` -> `\sqrt{2x}` (Python `\w+`, Unicode-aware). */
export function fixSqrt(s: string): string {
  return s.replace(/\\sqrt([\p{L}\p{N}_]+)/gu, "\\sqrt{$1}");
}

/** parser.py `convert_word_number`: str(w2n.word_to_num(s)), or s unchanged where word2number raises. */
export function convertWordNumber(s: string): string {
  try {
    return wordToNum(s);
  } catch {
    return s;
  }
}

/** The harness's `strip_string(string)`, applied once. */
export function stripString(input: string): string {
  // 1-3
  let s = pyStrip(input).replaceAll("\n", "");
  s = pyRstrip(s, ".");
  // 4: thin negative space
  s = s.replaceAll("\\!", "");
  // 5: matrices
  s = s.replace(/\\begin\{array\}\{.*?\}/g, "\\begin{pmatrix}");
  s = s.replace(/\\end\{array\}/g, "\\end{pmatrix}");
  s = s.replaceAll("bmatrix", "pmatrix");
  // 6
  s = s.replaceAll("tfrac", "frac").replaceAll("dfrac", "frac");
  // 7 (mangles \leftarrow too, like the harness)
  s = s.replaceAll("\\left", "").replaceAll("\\right", "");
  s = s.replaceAll("\\{", "{").replaceAll("\\}", "}");
  // 8: a trailing \text{...} unit, unless that would empty the string
  const noUnit = pyStrip(s.replace(/\\text\{.*?\}$/, ""));
  if (noUnit !== "" && noUnit !== s) s = noUnit;
  // 9: unit words, twice over the whole list
  for (let pass = 0; pass < 2 && ANY_UNIT.test(s); pass++) {
    for (const { pattern, literal } of UNIT_PATTERNS) {
      if (!s.includes(literal)) continue;
      const r = s.replace(pattern, "$1$2");
      if (r !== "") s = r;
    }
  }
  // 10-11
  s = s.replaceAll("^{\\circ}", "").replaceAll("^\\circ", "");
  s = s.replaceAll("\\$", "").replaceAll("$", "");
  // 12
  s = convertWordNumber(s);
  // 13
  s = s.replace(/\\text\{(.*?)\}/g, "$1");
  // 14
  for (const key of ["x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"])
    s = s.replaceAll(key, "");
  // 15
  s = s.replaceAll("\\emptyset", "{}");
  s = s.replaceAll("(-\\infty,\\infty)", "\\mathbb{R}");
  // 16
  s = s.replaceAll("\\%", "").replaceAll("%", "");
  // 17
  s = s.replaceAll(" .", " 0.").replaceAll("{.", "{0.");
  // 18 (bracket stripping when s.isalnum()) never fires: a string with brackets is not alphanumeric.
  // 19
  s = s.replaceAll("infinity", "\\infty");
  if (!s.includes("\\infty")) s = s.replaceAll("inf", "\\infty");
  s = s.replaceAll("+\\inity", "\\infty");
  // 20
  s = s.replaceAll("and", "").replaceAll("\\mathbf", "");
  // 21
  s = s.replace(/\\mbox\{.*?\}/g, "");
  // 22: the harness's quote-removal lines discard their result (no-op).
  // 23
  if (s.includes("j") && !s.includes("i")) s = s.replaceAll("j", "i");
  // 24: trailing-zero decimals
  s = s.replace(/(\p{Nd}+)\.0*([^\p{Nd}])/gu, "$1$2");
  s = s.replace(/(\p{Nd}+)\.0*$/u, "$1");
  // 25
  if (s === "") return s;
  if (s[0] === ".") s = `0${s}`;
  // 26: "x = 5" -> " 5" (left side of at most 2 characters, spaces counted)
  const eq = s.split("=");
  if (eq.length === 2 && Array.from(eq[0] as string).length <= 2) s = eq[1] as string;
  // 27-30
  s = fixSqrt(s);
  s = s.replaceAll(" ", "");
  s = fixFracs(s);
  s = fixASlashB(s);
  return s;
}

/** strip_string applied `times` times (the harness's pass counts differ per dataset and side). */
export function stripTimes(s: string, times: number): string {
  let out = s;
  for (let i = 0; i < times; i++) out = stripString(out);
  return out;
}
