import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EvalDataError, evaluate, formatTable, loadDataset, pyRound1 } from "./evaluate.ts";
import { cutAtStop, encodeWithBos, type Generator, modelGenerator } from "./generator.ts";
import { EVAL_DATA_DIR } from "./paths.ts";

describe("evaluate() with a fake generator", () => {
  test("writes samples, metrics (both graders) and the summary table", async () => {
    const out = mkdtempSync(join(tmpdir(), "rho1-eval-"));
    const seen: string[][] = [];
    // Answers: gsm8k item 0 right (gold 18), item 1 wrong, item 2 empty; mmlu: the "clearly" quirk on item 0.
    const generator: Generator = async (prompts) => {
      seen.push(prompts);
      return prompts.map((p) => {
        if (p.includes("Janet’s ducks")) return " She makes 9 * 2 = 18 dollars.\nThe answer is 18.  \n";
        if (p.includes("A robe takes 2 bolts")) return "The answer is 4.";
        if (p.includes("controlling the mosquito")) return "The answer is clearly (C).";
        if (p.includes("frameshift")) return "The answer is (C).";
        return "   ";
      });
    };
    const summary = await evaluate({
      tasks: ["gsm8k", "mmlu_stem"],
      dataDir: EVAL_DATA_DIR,
      outDir: out,
      generator,
      limit: 3,
      batchSize: 2,
    });
    expect(seen.map((b) => b.length)).toEqual([2, 1, 2, 1]);
    expect(seen[0]?.[0]).toEndWith(
      "\n\n\nQuestion: Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?\nAnswer:",
    );
    const samples = readFileSync(join(out, "gsm8k", "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(samples.map((s) => [s.idx, s.gold, s.pred, s.score])).toEqual([
      [0, "18", "18", true],
      [1, "3", "4", false],
      [2, "70000", null, false],
    ]);
    expect(samples[0].completion).toBe("She makes 9 * 2 = 18 dollars.\nThe answer is 18.");
    expect(Object.keys(samples[0])).toEqual(["idx", "question", "gold", "pred", "score", "completion"]);
    const gsm = JSON.parse(readFileSync(join(out, "gsm8k", "metrics.json"), "utf8"));
    expect(gsm).toMatchObject({
      num_samples: 3,
      empty_samples: 1,
      timeout_samples: 0,
      acc: 33.3,
      grader: "harness",
    });
    const mmlu = JSON.parse(readFileSync(join(out, "mmlu_stem", "metrics.json"), "utf8"));
    // item 0: gold C; "clearly" reads as C under the harness grader (right by accident), as no answer under strict
    expect(mmlu).toMatchObject({
      num_samples: 3,
      acc: 66.7,
      acc_harness: 66.7,
      acc_strict: 33.3,
      grader_disagreements: 1,
    });
    expect(mmlu.type_acc).toEqual({ college_biology: 66.7 });
    expect(summary.accuracies).toEqual({ gsm8k: 33.3, mmlu_stem: 66.7 });
    expect(summary.average).toBe(50);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain("|  33.3 |");
    const s = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(s.average).toBe(50);
  });

  test("strict grader as primary", async () => {
    const out = mkdtempSync(join(tmpdir(), "rho1-eval-"));
    const summary = await evaluate({
      tasks: ["sat_math"],
      dataDir: EVAL_DATA_DIR,
      outDir: out,
      generator: async (ps) => ps.map(() => "answer is: (A)"),
      limit: 4,
      grader: "strict",
    });
    // sat_math golds of the first 4 items: A, A, C, A
    expect(summary.metrics.sat_math).toMatchObject({
      acc: 75,
      acc_harness: 0,
      acc_strict: 75,
      grader: "strict",
    });
  });

  test("a generator returning the wrong number of completions is an error", async () => {
    const out = mkdtempSync(join(tmpdir(), "rho1-eval-"));
    await expect(
      evaluate({
        tasks: ["gsm8k"],
        dataDir: EVAL_DATA_DIR,
        outDir: out,
        generator: async () => [],
        limit: 1,
      }),
    ).rejects.toThrow(/0 completions for 1 prompts/);
  });

  test("missing data names the file", () => {
    expect(() => loadDataset("/nonexistent", "gsm8k")).toThrow(EvalDataError);
  });
});

describe("helpers", () => {
  test("Python round(x, 1)", () => {
    expect(pyRound1(33.33333)).toBe(33.3);
    expect(pyRound1(66.66666)).toBe(66.7);
    expect(pyRound1(0.25)).toBe(0.2);
    expect(pyRound1(0.75)).toBe(0.8);
    expect(pyRound1(12.25)).toBe(12.2);
    expect(pyRound1(15.8)).toBe(15.8);
  });
  test("summary table", () => {
    expect(formatTable({ gsm8k: 36.2, math500: 15.8 }, 26)).toBe(
      "| gsm8k | math500 |  avg |\n|-------|---------|------|\n|  36.2 |    15.8 | 26.0 |",
    );
  });
  test("stop strings cut like vLLM; BOS added when missing", () => {
    expect(cutAtStop("The answer is 5.\n\nQuestion: next", ["</s>", "\n\nQuestion:", "\n\nProblem:"])).toBe(
      "The answer is 5.",
    );
    expect(cutAtStop("a\nQuestion: b", ["\n\nQuestion:"])).toBe("a\nQuestion: b");
    const tok = {
      bosId: 1,
      encode: (t: string) => [...t].map((c) => c.charCodeAt(0)),
      decode: (ids: number[]) => String.fromCharCode(...ids),
    };
    expect(encodeWithBos(tok, "ab")).toEqual([1, 97, 98]);
  });
  test("modelGenerator: greedy, max tokens, stop strings, rstrip", async () => {
    const calls: unknown[] = [];
    const tok = {
      bosId: 1,
      encode: (t: string) => [1, ...[...t].map((c) => c.charCodeAt(0))],
      decode: (ids: number[]) => String.fromCharCode(...ids),
    };
    const model = {
      generate(prompts: number[][], opts?: unknown) {
        calls.push(opts);
        return prompts.map(() => ({ ids: [..." 42  \n\nProblem: x"].map((c) => c.charCodeAt(0)) }));
      },
    };
    let tokens = 0;
    const gen = modelGenerator(model, tok, { maxNewTokens: 7, onBatch: (n) => (tokens += n) });
    expect(await gen(["p", "q"])).toEqual([" 42", " 42"]);
    expect(calls[0]).toMatchObject({
      maxNewTokens: 7,
      temperature: 0,
      stop: { strings: ["</s>", "\n\nQuestion:", "\n\nProblem:"] },
    });
    expect(tokens).toBe(34);
  });
});
