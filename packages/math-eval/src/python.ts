/**
 * The few Python built-ins whose exact behaviour decides harness verdicts: `str(float)`, `float(str)`,
 * `str(list_of_str)`, `str.strip(chars)`.
 */

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
  const s = pyStrip(text);
  if (!PY_FLOAT.test(s)) return null;
  const lower = s.toLowerCase().replaceAll("_", "");
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity"))
    return lower.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return Number(lower);
}

/** Python's `int(str)` for the canonical-looking case only: returns null where Python would raise. */
export function pyInt(text: string): number | null {
  const s = pyStrip(text).replaceAll(/(?<=\d)_(?=\d)/g, "");
  if (!/^[+-]?\d+$/.test(s)) return null;
  return Number.parseInt(s, 10);
}

/** Python `str.strip(chars?)`. */
export function pyStrip(s: string, chars?: string): string {
  // Python's str.strip() strips Unicode whitespace; JS trim() covers the same set plus U+FEFF, which is harmless here.
  if (chars === undefined) return s.trim();
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start] as string)) start++;
  while (end > start && chars.includes(s[end - 1] as string)) end--;
  return s.slice(start, end);
}

/** Python `str.rstrip(chars)`. */
export function pyRstrip(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1] as string)) end--;
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
