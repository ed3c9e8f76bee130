import { fileURLToPath } from "node:url";

/**
 * The folder holding `<task>/test.jsonl` and `prompts/<task>.json` for all ten tasks, resolved from this module's
 * own location so it is right wherever the package is installed (source or compiled, both one level below it).
 */
export const MATH_EVAL_DATA_DIR: string = fileURLToPath(new URL("../data", import.meta.url));

/** Records per task as shipped (the harness's test files; see SOURCES.md). */
export const TASK_RECORD_COUNTS = {
  gsm8k: 1319,
  math500: 500,
  math: 5000,
  svamp: 1000,
  asdiv: 2215,
  mawps: 2065,
  tabmwp: 1000,
  mathqa: 1000,
  mmlu_stem: 3018,
  sat_math: 32,
} as const;
