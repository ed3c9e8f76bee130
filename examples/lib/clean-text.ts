/**
 * Clean target-distribution documents from the GSM8K / MATH training files (JSON lines with question/answer or
 * problem/solution, or a `text` field), formatted as the chain-of-thought text the math eval prompts look like.
 */
import { readFileSync } from "node:fs";

/** GSM8K: drops the calculator annotations "<<48/2=24>>" and ends with "The answer is 72." (the eval's format). */
export function formatGsm8k(row: { question: string; answer: string }): string {
  const answer = row.answer
    .replace(/<<[^<>]*>>/g, "")
    .replace(/\n?#### *(.+)\s*$/, (_m, a) => `\nThe answer is ${a.trim()}.`);
  return `Question: ${row.question.trim()}\nAnswer: ${answer.trim()}`;
}

/** MATH: problem and worked solution. */
export function formatMath(row: { problem: string; solution: string }): string {
  return `Problem: ${row.problem.trim()}\nSolution: ${row.solution.trim()}`;
}

/** One JSON record as a clean document, or undefined when it has none of the known shapes. */
export function cleanDocument(record: Record<string, unknown>): string | undefined {
  if (typeof record.text === "string") return record.text;
  if (typeof record.question === "string" && typeof record.answer === "string") {
    return formatGsm8k({ question: record.question, answer: record.answer });
  }
  if (typeof record.problem === "string" && typeof record.solution === "string") {
    return formatMath({ problem: record.problem, solution: record.solution });
  }
  return undefined;
}

/** The first `limit` clean documents of a JSON-lines file; a malformed line throws naming file and line. */
export function readCleanJsonl(path: string, limit = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    if (lines[i].trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(lines[i]);
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
    const doc = cleanDocument(record as Record<string, unknown>);
    if (doc === undefined)
      throw new Error(`${path}:${i + 1}: expected text, question/answer or problem/solution`);
    out.push(doc);
  }
  return out;
}

/**
 * `{"text": ...}` JSON lines. U+2028 / U+2029 are written escaped: JSON.stringify leaves them raw, and line readers
 * that treat them as line breaks (Bun's readline does) would cut the record in two.
 */
export function textJsonl(texts: string[]): string {
  return texts
    .map(
      (text) =>
        `${JSON.stringify({ text })
          .replace(/\u2028/g, "\\u2028")
          .replace(/\u2029/g, "\\u2029")}\n`,
    )
    .join("");
}
