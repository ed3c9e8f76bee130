/**
 * The few Python built-ins whose exact behaviour decides harness verdicts: `str(float)`, `float(str)`, `int(str)`,
 * `str.isdigit()`, `str(list_of_str)`, `str.strip(chars)`, with Python's Unicode rules: any script's decimal digits
 * count (`int("٣") == 3`, `float("５.５") == 5.5`), and whitespace is Python's set, not JavaScript's.
 * The character tables are CPython 3.11's (Unicode 14.0), printed by `unicodedata` (see each table).
 */

/**
 * The zero of every run of ten decimal digits (`str.isdecimal()`, category Nd): each run is zero..nine in order.
 * `[c for c in range(0x110000) if chr(c).isdecimal() and unicodedata.decimal(chr(c)) == 0]`
 */
const DECIMAL_ZEROS = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50,
  0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
  0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0,
  0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50,
  0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950,
  0x1fbf0,
];
const DECIMAL_VALUE = new Map<number, number>(
  DECIMAL_ZEROS.flatMap((zero) => Array.from({ length: 10 }, (_, d) => [zero + d, d] as [number, number])),
);

/**
 * Digits that are not decimal (superscripts, circled digits, ...): `str.isdigit()` accepts them, `int()` refuses.
 * `[c for c in range(0x110000) if chr(c).isdigit() and not chr(c).isdecimal()]`, as inclusive ranges.
 */
const DIGIT_ONLY: readonly [number, number][] = [
  [0xb2, 0xb3],
  [0xb9, 0xb9],
  [0x1369, 0x1371],
  [0x19da, 0x19da],
  [0x2070, 0x2070],
  [0x2074, 0x2079],
  [0x2080, 0x2089],
  [0x2460, 0x2468],
  [0x2474, 0x247c],
  [0x2488, 0x2490],
  [0x24ea, 0x24ea],
  [0x24f5, 0x24fd],
  [0x24ff, 0x24ff],
  [0x2776, 0x277e],
  [0x2780, 0x2788],
  [0x278a, 0x2792],
  [0x10a40, 0x10a43],
  [0x10e60, 0x10e68],
  [0x11052, 0x1105a],
  [0x1f100, 0x1f10a],
];

/**
 * Python's whitespace (`str.isspace()`, what `strip()`, `split()` and `re`'s `\s` use): JavaScript's `trim()` and
 * `\s` also take U+FEFF and miss U+001C–U+001F and U+0085.
 * `[c for c in range(0x110000) if chr(c).isspace()]`
 */
const PY_SPACE_CHARS =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
/** A regular-expression class matching one Python whitespace character (for `re`'s `\s`). */
export const PY_SPACE = `[${[...PY_SPACE_CHARS].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}]`;

export function pyIsSpace(ch: string): boolean {
  return ch.length === 1 && PY_SPACE_CHARS.includes(ch);
}

/** Python `str.isdigit()`: non-empty, every character a decimal digit or another digit (², ①, ...). */
export function pyIsDigit(s: string): boolean {
  if (s === "") return false;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (DECIMAL_VALUE.has(cp)) continue;
    if (!DIGIT_ONLY.some(([lo, hi]) => cp >= lo && cp <= hi)) return false;
  }
  return true;
}

/**
 * What int() and float() read: CPython first maps non-ASCII whitespace to " " and decimal digits of any script to
 * ASCII digits, then strips ASCII whitespace only, so U+001C–U+001F around a number make it invalid there while
 * `strip()` removes them.
 */
function numberText(text: string): string {
  return asciiDigits(pyStrip(text, undefined, (c) => pyIsSpace(c) && !(c >= "\x1c" && c <= "\x1f")));
}

/** Every decimal digit of any script replaced by its ASCII digit. */
function asciiDigits(s: string): string {
  let out = "";
  for (const ch of s) {
    const d = DECIMAL_VALUE.get(ch.codePointAt(0) as number);
    out += d === undefined ? ch : String(d);
  }
  return out;
}

/** Python's `repr(float)` / `str(float)`: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest digits that round-trip, like Python's repr.
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${digits[0]}${frac}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

const DIGITPART = String.raw`\d(?:_?\d)*`;
const PY_FLOAT = new RegExp(
  String.raw`^[+-]?(?:(?:${DIGITPART}\.(?:${DIGITPART})?|\.${DIGITPART}|${DIGITPART})(?:[eE][+-]?${DIGITPART})?|inf(?:inity)?|nan)$`,
  "i",
);

/** Python's `float(str)`; returns null where Python raises ValueError. Accepts `_` between digits, inf, nan. */
export function pyFloat(text: string): number | null {
  const s = numberText(text);
  if (!PY_FLOAT.test(s)) return null;
  const lower = s.toLowerCase().replaceAll("_", "");
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity"))
    return lower.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return Number(lower);
}

/** Python's `int(str)` (base 10), exact at any size; null where Python raises ValueError. */
export function pyInt(text: string): bigint | null {
  const s = numberText(text);
  if (!/^[+-]?\d(?:_?\d)*$/.test(s)) return null;
  return BigInt(s.replaceAll("_", ""));
}

/** Python `str.strip(chars?)`; without chars, Python's whitespace. */
export function pyStrip(
  s: string,
  chars?: string,
  strips: (c: string) => boolean = chars === undefined ? pyIsSpace : (c) => chars.includes(c),
): string {
  let start = 0;
  let end = s.length;
  while (start < end && strips(s[start] as string)) start++;
  while (end > start && strips(s[end - 1] as string)) end--;
  return s.slice(start, end);
}

/** Python `str.split()` without arguments: runs of Python whitespace separate, no empty strings. */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let word = "";
  for (const ch of s) {
    if (pyIsSpace(ch)) {
      if (word !== "") out.push(word);
      word = "";
    } else word += ch;
  }
  if (word !== "") out.push(word);
  return out;
}

/** Python `str.rstrip(chars?)`; without chars, Python's whitespace. */
export function pyRstrip(s: string, chars?: string): string {
  const strips = chars === undefined ? pyIsSpace : (c: string) => chars.includes(c);
  let end = s.length;
  while (end > 0 && strips(s[end - 1] as string)) end--;
  return s.slice(0, end);
}

/** Python `repr(str)`: single quotes unless the text has `'` and no `"`. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `str(value)` for the JSON values the datasets hold (lists of strings, numbers, strings). */
export function pyStr(value: unknown, floatFields = false): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number")
    return floatFields || !Number.isInteger(value) ? pyFloatStr(value) : String(value);
  if (Array.isArray(value))
    return `[${value.map((v) => (typeof v === "string" ? pyStrRepr(v) : pyStr(v))).join(", ")}]`;
  return JSON.stringify(value);
}
