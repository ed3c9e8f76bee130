import { MATH_EVAL_DATA_DIR } from "@rho1/math-eval-data";

/**
 * The full test sets and prompts (all ten tasks, exact record counts) from `@rho1/math-eval-data`, resolved from
 * the installed package: the default data folder of `evaluate` and `rho1 eval`.
 */
export const EVAL_DATA_DIR: string = MATH_EVAL_DATA_DIR;
