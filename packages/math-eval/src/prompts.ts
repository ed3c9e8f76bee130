/**
 * Few-shot prompts as data (`data/eval/prompts/<dataset>.json`, converted byte-exact from the harness's
 * prompts/cot/*.md): full prompt = prompt_text + "\n\n\n" + query_template.format(question=...).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rho1Error } from "@rho1/io";
import type { DatasetName } from "./datasets.ts";

export interface PromptSpec {
  dataset: string;
  n_shots: number;
  prompt_text: string;
  query_template: string;
  stop: string[];
}

/** A prompt file is missing a field or has the wrong type. */
export class PromptFileError extends Rho1Error {
  override name = "PromptFileError";
  constructor(
    readonly file: string,
    message: string,
  ) {
    super("bad_prompt_file", `${file}: ${message}`, { file });
  }
}

/** The harness's stop strings for every `cot` run (the EOS token also stops). */
export const STOP_STRINGS: readonly string[] = ["</s>", "\n\nQuestion:", "\n\nProblem:"];

export function loadPromptSpec(dataDir: string, dataset: DatasetName): PromptSpec {
  const file = join(dataDir, "prompts", `${dataset}.json`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new PromptFileError(file, `cannot read prompt file: ${(error as Error).message}`);
  }
  for (const key of ["prompt_text", "query_template"]) {
    if (typeof json[key] !== "string")
      throw new PromptFileError(file, `field '${key}' expected a string, found ${typeof json[key]}`);
  }
  const query = json.query_template as string;
  if (!query.includes("{question}"))
    throw new PromptFileError(file, "query_template has no {question} placeholder");
  return {
    dataset: String(json.dataset ?? dataset),
    n_shots: Number(json.n_shots ?? 0),
    prompt_text: json.prompt_text as string,
    query_template: query,
    stop: Array.isArray(json.stop) ? (json.stop as string[]) : [...STOP_STRINGS],
  };
}

/** utils.py `construct_prompt` for prompt_type cot: demo prompt, three newlines, the query block. */
export function buildPrompt(spec: PromptSpec, question: string): string {
  // A function replacement, so "$" sequences in the question are not interpreted.
  return `${spec.prompt_text}\n\n\n${spec.query_template.replace("{question}", () => question)}`;
}
