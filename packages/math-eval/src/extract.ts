/**
 * Prediction extraction of the harness (parser.py `extract_answer`, `extract_multi_choice_answer`, `run_execute`).
 */
import { PY_SPACE, pyStrip } from "./python.ts";
import { stripString } from "./strip-string.ts";

/** The MC regex of the harness: first "answer is" followed by an optional "(" and ANY letter a-e. */
const MC_HARNESS = /answer is \(?(?<ans>[abcde])\)?/;
/** The strict variant: an optional colon, and the letter must stand alone ("clearly" is no longer read as C). */
const MC_STRICT = /answer is:?\s*\(?(?<ans>[abcde])\)?(?![\p{L}\p{N}_])/u;

/** parser.py `extract_multi_choice_answer`: an upper-case letter, or the literal "placeholder". */
export function extractMultiChoiceAnswer(text: string, strict = false): string {
  let s = text;
  const at = s.indexOf("Problem:");
  if (at >= 0) s = s.slice(0, at);
  s = s.replaceAll("choice is", "answer is");
  const m = (strict ? MC_STRICT : MC_HARNESS).exec(s.toLowerCase());
  return m?.groups?.ans ? m.groups.ans.toUpperCase() : "placeholder";
}

/** The text after the boxed marker: brace-balanced group, or up to the next `$`. */
function boxedContent(ans: string): string {
  if (ans[0] !== "{") return pyStrip(ans.split("$")[0] as string);
  let depth = 1;
  let out = "";
  for (const c of ans.slice(1)) {
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) break;
    }
    out += c;
  }
  return out;
}

/** Strict only: the Minerva line without `$...$`. */
const MINERVA_NO_DOLLAR = /final answer is (.*?)\. I hope/;

/** `re.sub(r"\n\s*", "", pred)` with Python's `\s`. */
const NEWLINE_AND_SPACE = new RegExp(`\\n${PY_SPACE}*`, "g");

function lastSplit(s: string, sep: string): string {
  return s.slice(s.lastIndexOf(sep) + sep.length);
}

/**
 * parser.py `extract_answer` for free-form answers (already stripped once, as the harness does).
 * `strict` also reads the Minerva line without `$...$` ("The final answer is 72. I hope it is correct.").
 */
export function extractAnswer(text: string, strict = false): string {
  let pred: string;
  const minervaStart = text.indexOf("final answer is $");
  const dollarMinerva = minervaStart >= 0 && text.includes("$. I hope");
  const strictMinerva = strict && !dollarMinerva ? MINERVA_NO_DOLLAR.exec(text) : null;
  if (dollarMinerva) {
    // The span runs from the FIRST marker to the first following "$. I hope" (Python split(..., 1)).
    const tail = text.slice(minervaStart + "final answer is $".length);
    pred = pyStrip(tail.split("$. I hope")[0] as string);
  } else if (strictMinerva) {
    pred = pyStrip(strictMinerva[1] as string);
  } else if (text.includes("boxed")) {
    const ans = lastSplit(text, "boxed");
    if (ans.length === 0) return "";
    pred = boxedContent(ans);
  } else if (text.includes("he answer is")) {
    pred = pyStrip(lastSplit(text, "he answer is"));
  } else if (text.includes("final answer is")) {
    pred = pyStrip(lastSplit(text, "final answer is"));
  } else {
    const numbers = text.replaceAll(",", "").match(/-?\p{Nd}*\.?\p{Nd}+/gu);
    pred = numbers ? (numbers[numbers.length - 1] as string) : "";
  }
  pred = pred.replace(NEWLINE_AND_SPACE, "");
  if (pred.startsWith(":")) pred = pred.slice(1);
  if (pred.endsWith(".")) pred = pred.slice(0, -1);
  if (pred.endsWith("/")) pred = pred.slice(0, -1);
  return stripString(pred);
}
