import {
  buildPrompt,
  buildQuestion,
  DATASET_NAMES,
  type DataRecord,
  type DatasetName,
  EVAL_DATA_DIR,
  isDatasetName,
  loadPromptSpec,
} from "@rho1/math-eval";
import {
  type Command,
  InputError,
  mapJsonLines,
  parseCommandArgs,
  requireOption,
  UsageError,
} from "../command.ts";

const USAGE = `usage: rho1 prompt --dataset NAME [--data-dir DIR] < records.jsonl > prompts.jsonl

Builds the few-shot prompt the math-evaluation harness gives the model, byte-exact. Reads JSON lines
{"record": <a line of the dataset file>} and writes {"prompt": "..."} per line.

  --dataset NAME   ${DATASET_NAMES.join(", ")}
  --data-dir DIR   folder holding prompts/<dataset>.json (default: the prompts in @rho1/math-eval-data)`;

/** Reads the dataset option; a bad name is a UsageError listing the valid ones. */
export function datasetOption(values: Record<string, unknown>): DatasetName {
  const name = requireOption(values, "dataset");
  if (!isDatasetName(name))
    throw new UsageError(`--dataset expects one of ${DATASET_NAMES.join(", ")}, found "${name}"`);
  return name;
}

/** The `record` of one input line, or an InputError (bad input, exit 1) naming the line. */
export function recordOf(line: unknown, n: number): DataRecord {
  const record = (line as { record?: unknown } | null)?.record;
  if (record === null || typeof record !== "object" || Array.isArray(record))
    throw new InputError(
      `stdin:${n}: expected {"record": {...}}, found ${JSON.stringify(line)?.slice(0, 80)}`,
    );
  return record as DataRecord;
}

export const command: Command = {
  name: "prompt",
  summary: "Build the byte-exact few-shot math prompt for dataset records (JSON lines in/out)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      dataset: { type: "string" },
      "data-dir": { type: "string" },
    });
    const dataset = datasetOption(values);
    const spec = loadPromptSpec(values["data-dir"] ?? EVAL_DATA_DIR, dataset);
    await mapJsonLines((line, n) => ({
      prompt: buildPrompt(spec, buildQuestion(dataset, recordOf(line, n))),
    }));
    return 0;
  },
};
