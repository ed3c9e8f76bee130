import { existsSync } from "node:fs";
import { join } from "node:path";

/** The repository's `data/eval` (prompts + a few records per dataset), beside packages/. */
export const REPO_DATA_DIR = join(import.meta.dir, "../../../data/eval");

/** The full test sets in `../shared/data/eval` beside the checkout, when present (developers, CI). */
export const SHARED_DATA_DIR = join(import.meta.dir, "../../../../shared/data/eval");

/** The full data when it is there, else the repository's sample. */
export function defaultDataDir(): string {
  return existsSync(join(SHARED_DATA_DIR, "gsm8k", "test.jsonl")) ? SHARED_DATA_DIR : REPO_DATA_DIR;
}
