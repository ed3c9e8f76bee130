// The benchmark text: the math corpus in ../shared/data/corpus as documents (GSM8K question + answer, MATH problem
// + solution, joined by a newline), and the Rust tokenizers addon, a devDependency of the benchmarks.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const SHARED = join(ROOT, "../shared");

export function readMathCorpus(): string[] {
  const dir = join(SHARED, "data/corpus");
  if (!existsSync(dir))
    throw new Error(`math corpus not found: ${dir} (the shared/ folder beside the checkout)`);
  const docs: string[] = [];
  for (const [file, a, b] of [
    ["gsm8k_train.jsonl", "question", "answer"],
    ["math_train.jsonl", "problem", "solution"],
  ] as const) {
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const row = JSON.parse(line) as Record<string, string>;
      docs.push(`${row[a]}\n${row[b]}`);
    }
  }
  return docs;
}

export const utf8Bytes = (docs: string[]) => docs.reduce((n, d) => n + Buffer.byteLength(d), 0);

/** The slice of @anush008/tokenizers (Rust tokenizers 0.22 as a Node addon) that the benchmark uses. */
export interface RustTokenizer {
  encode(text: string, pair: null, opts: { addSpecialTokens: boolean }): Promise<{ getIds(): number[] }>;
  encodeBatch(texts: string[], opts: { addSpecialTokens: boolean }): Promise<{ getIds(): number[] }[]>;
}

export function loadRust(tokenizerJson: string): RustTokenizer {
  const path = Bun.resolveSync("@anush008/tokenizers", import.meta.dir);
  const { Tokenizer } = require(path) as { Tokenizer: { fromFile(file: string): RustTokenizer } };
  return Tokenizer.fromFile(tokenizerJson);
}
