/**
 * One item, end to end, as `math_eval.py` + `evaluate.py` do it: completion -> `run_execute` prediction,
 * record -> gold, then `math_equal`. The `strict` grader fixes the extraction quirks listed in spec §4/§9.
 */
import { type DataRecord, type DatasetName, evalGold, MULTI_CHOICE } from "./datasets.ts";
import { extractAnswer, extractMultiChoiceAnswer } from "./extract.ts";
import { mathEqual } from "./grader.ts";
import { pyStrip } from "./python.ts";
import { stripString } from "./strip-string.ts";

export type GraderKind = "harness" | "strict";

/**
 * The harness scores `(prompt + output.rstrip()).split(prompt)[-1].strip()`: the generated text with
 * surrounding whitespace removed.
 */
export function cleanCompletion(output: string): string {
  return pyStrip(output);
}

/**
 * parser.py `run_execute` for cot: null for an empty completion or one that is exactly `error` (`if not result or
 * result == 'error'`; always wrong), else the extracted answer passed through strip_string once more (free-form:
 * 2 passes in total; MC letters: 1).
 */
export function extractPrediction(
  dataset: DatasetName,
  completion: string,
  grader: GraderKind = "harness",
): string | null {
  let code = pyStrip(completion);
  if (code === "" || code === "error") return null;
  const strict = grader === "strict";
  // Strict: a hallucinated next exemplar ("\nQuestion: ..." after a single newline) is not part of the answer.
  if (strict) code = pyStrip(code.split(/\n(?:Question|Problem):/)[0] as string);
  const pred = MULTI_CHOICE.has(dataset)
    ? extractMultiChoiceAnswer(code, strict)
    : extractAnswer(code, strict);
  return stripString(pred);
}

export interface Verdict {
  pred: string | null;
  gold: string;
  correct: boolean;
}

/** Grades one completion synchronously (no time limit; see GradingPool for the 3 s limit). */
export function gradeCompletion(
  dataset: DatasetName,
  record: DataRecord,
  completion: string,
  grader: GraderKind = "harness",
): Verdict {
  const pred = extractPrediction(dataset, completion, grader);
  const gold = evalGold(dataset, record);
  return { pred, gold, correct: mathEqual(pred, gold) };
}
