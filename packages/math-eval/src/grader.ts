/**
 * `math_equal` of the harness's grader.py (lines 53-167), with its defaults include_percentage=True,
 * is_close=True, timeout=False (the inner 1 s timeout is never used in evaluation).
 */
import { pyFloat, pyStrip } from "./python.ts";
import { close, symbolicEqual } from "./symbolic.ts";

/** grader.py `parse_digits`: delete commas, Python float(); "12\%" / "12%" read as 0.12. null = not a number. */
export function parseDigits(x: string): number | null {
  const s = x.replaceAll(",", "");
  const v = pyFloat(s);
  if (v !== null) return v;
  if (s.endsWith("%")) {
    let t = s.slice(0, -1);
    if (t.endsWith("\\")) t = t.slice(0, -1);
    const w = pyFloat(t);
    if (w !== null) return w / 100;
  }
  return null;
}

/** grader.py `is_digit`. */
export function isDigit(x: string): boolean {
  return parseDigits(x) !== null;
}

/** grader.py `numeric_equal`: math.isclose(reference, prediction, rel_tol=1e-4). */
export function numericEqual(prediction: number, reference: number): boolean {
  return close(reference, prediction, 1e-4);
}

/** grader.py `str_to_pmatrix`: each `{a,b}` becomes `\begin{pmatrix}a\b\end{pmatrix}` (one backslash, verbatim). */
export function strToPmatrix(input: string): string {
  const matches = pyStrip(input).match(/\{.*,.*\}/g) ?? [];
  return matches
    .map((m) => `\\begin{pmatrix}${pyStrip(m, "{}").replaceAll(",", "\\")}\\end{pmatrix}`)
    .join(", ");
}

const BRACKETED = /^(\(|\[).+(\)|\])/;
const MAT_BEGIN = ["\\begin{pmatrix}", "\\begin{bmatrix}"];
const MAT_END = ["\\end{pmatrix}", "\\end{bmatrix}"];
const isMatrix = (s: string) => MAT_BEGIN.some((b) => s.startsWith(b)) && MAT_END.some((e) => s.endsWith(e));

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

function matrixRows(s: string): string[] {
  return s
    .slice("\\begin{pmatrix}".length, s.length - "\\end{pmatrix}".length)
    .split("\\\\")
    .map((l) => pyStrip(l))
    .filter((l) => l !== "");
}

/** grader.py `math_equal(prediction, reference)`; `prediction` null is the harness's None (empty completion). */
export function mathEqual(prediction: string | null, reference: string): boolean {
  // 1. string identity (str(None) is "None")
  if ((prediction ?? "None") === reference) return true;
  // 2. numbers, with the percentage variants, and no symbolic fallback once both are numbers
  if (prediction !== null) {
    const p = parseDigits(prediction);
    const r = parseDigits(reference);
    if (p !== null && r !== null) return [r / 100, r, r * 100].some((item) => numericEqual(p, item));
  }
  // 3. None or ""
  if (!prediction) return false;
  // 4-5
  let ref = pyStrip(reference);
  const pred = pyStrip(prediction);
  if (pred.includes("pmatrix") && !ref.includes("pmatrix")) ref = strToPmatrix(ref);
  // 6. bracket-insensitive, case-insensitive
  let predStr = pred;
  let refStr = ref;
  if (
    (pred.startsWith("[") && pred.endsWith("]") && !ref.startsWith("(")) ||
    (pred.startsWith("(") && pred.endsWith(")") && !ref.startsWith("["))
  ) {
    predStr = pyStrip(predStr, "[]()");
    refStr = pyStrip(refStr, "[]()");
  }
  for (const ch of ["{", "}", "(", ")"]) {
    refStr = refStr.replaceAll(ch, "");
    predStr = predStr.replaceAll(ch, "");
  }
  if (predStr.toLowerCase() === refStr.toLowerCase()) return true;
  // 7. tuples and intervals: bracket types ignored, naive comma split, order-sensitive
  if (BRACKETED.test(pred) && BRACKETED.test(ref)) {
    const pp = pred.slice(1, -1).split(",");
    const rp = ref.slice(1, -1).split(",");
    if (pp.length === rp.length && pp.every((x, i) => mathEqual(x, rp[i] as string))) return true;
  }
  // 8. matrices
  if (isMatrix(pred) && isMatrix(ref)) {
    const pl = matrixRows(pred);
    const rl = matrixRows(ref);
    let matched = pl.length === rl.length;
    for (let i = 0; matched && i < pl.length; i++) {
      const pc = (pl[i] as string).split("&");
      const rc = (rl[i] as string).split("&");
      matched = pc.length === rc.length && pc.every((x, j) => mathEqual(x, rc[j] as string));
    }
    if (matched) return true;
  }
  // 9. equations
  if (count(pred, "=") === 1 && count(ref, "=") === 1) {
    const [pl, pr] = pred.split("=") as [string, string];
    const [rl, rr] = ref.split("=") as [string, string];
    const p = `${pyStrip(pl)} - (${pyStrip(pr)})`;
    const r = `${pyStrip(rl)} - (${pyStrip(rr)})`;
    if (symbolicEqual(p, r) || symbolicEqual(`-(${p})`, r)) return true;
  } else if (
    count(pred, "=") === 1 &&
    pyStrip(pred.split("=")[0] as string).length <= 2 &&
    !ref.includes("=")
  ) {
    if (mathEqual(pred.split("=")[1] as string, ref)) return true;
  } else if (
    count(ref, "=") === 1 &&
    pyStrip(ref.split("=")[0] as string).length <= 2 &&
    !pred.includes("=")
  ) {
    if (mathEqual(pred, ref.split("=")[1] as string)) return true;
  }
  // 10. symbolic
  return symbolicEqual(pred, ref);
}
