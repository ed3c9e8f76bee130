// Paths and corpus loading shared by this package's tests (not exported from index.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { loadTokenizer } from "./load.ts";
import type { Tokenizer } from "./types.ts";

export const SHARED = join(import.meta.dir, "../../../../shared");
export const STORIES_DIR = join(import.meta.dir, "../../../models/stories260K");

/** Tokenizer folders with golden files: name -> folder (stories260K is the embedded copy in the repo). */
export const GOLDEN_TOKENIZERS: Record<string, string> = {
  llama2: join(SHARED, "data/tokenizers/llama2"),
  mistral: join(SHARED, "data/tokenizers/mistral"),
  stories260K: STORIES_DIR,
};

export const hasShared = fixturesPresent(join(SHARED, "fixtures/tokenizers"));
if (!hasShared) console.warn(`skipping golden/corpus tokenizer tests: ${SHARED} not found`);

export interface GoldenRecord {
  text: string;
  ids: number[];
  ids_no_special: number[];
  decoded: string;
}

export function readGolden(name: string): GoldenRecord[] {
  const path = join(SHARED, `fixtures/tokenizers/${name}.golden.jsonl`);
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as GoldenRecord);
}

/** The math corpus as documents: GSM8K question + answer, MATH problem + solution (each joined by a newline). */
export function readMathCorpus(corpusDir = join(SHARED, "data/corpus")): string[] {
  const docs: string[] = [];
  for (const [file, a, b] of [
    ["gsm8k_train.jsonl", "question", "answer"],
    ["math_train.jsonl", "problem", "solution"],
  ] as const) {
    for (const line of readFileSync(join(corpusDir, file), "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const row = JSON.parse(line) as Record<string, string>;
      docs.push(`${row[a]}\n${row[b]}`);
    }
  }
  return docs;
}

const loaded = new Map<string, Promise<Tokenizer>>();

/** One loaded tokenizer per folder for tests that only read from it (loading Llama's takes a few hundred ms). */
export function sharedTokenizer(dir: string): Promise<Tokenizer> {
  let tokenizer = loaded.get(dir);
  if (tokenizer === undefined) {
    tokenizer = loadTokenizer(dir);
    loaded.set(dir, tokenizer);
  }
  return tokenizer;
}
