import { DATASET_NAMES, evalGold, extractPrediction, type GraderKind, GradingPool } from "@rho1/math-eval";
import { type Command, InputError, mapJsonLines, parseCommandArgs, UsageError } from "../command.ts";
import { datasetOption, recordOf } from "./prompt.ts";

const USAGE = `usage: rho1 grade --dataset NAME [--grader harness|strict] < items.jsonl > verdicts.jsonl

Grades model completions exactly like the math-evaluation harness behind Rho-1's tables. Reads JSON lines
{"record": <dataset record>, "completion": "<model output>"} and writes {"pred": ..., "gold": ..., "correct": bool}
(pred is null for an empty completion; a comparison over 3 s counts as wrong and adds "timeout": true).

  --dataset NAME      ${DATASET_NAMES.join(", ")}
  --grader KIND       harness (default: faithful, quirks included) or strict (fixes the listed quirks)`;

export function graderOption(values: Record<string, unknown>): GraderKind {
  const g = values.grader ?? "harness";
  if (g !== "harness" && g !== "strict")
    throw new UsageError(`--grader expects harness or strict, found "${g}"`);
  return g;
}

export const command: Command = {
  name: "grade",
  summary: "Grade math completions like the Rho-1 eval harness (JSON lines in/out)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { dataset: { type: "string" }, grader: { type: "string" } });
    const dataset = datasetOption(values);
    const grader = graderOption(values);
    const pool = new GradingPool();
    try {
      await mapJsonLines(async (line, n) => {
        const record = recordOf(line, n);
        const completion = (line as { completion?: unknown }).completion;
        if (typeof completion !== "string")
          throw new InputError(
            `stdin:${n}: "completion" expected a string, found ${JSON.stringify(completion)}`,
          );
        const pred = extractPrediction(dataset, completion, grader);
        const gold = evalGold(dataset, record);
        const verdict = await pool.mathEqual(pred, gold);
        return verdict.timedOut
          ? { pred, gold, correct: false, timeout: true }
          : { pred, gold, correct: verdict.correct };
      });
    } finally {
      pool.close();
    }
    return 0;
  },
};
