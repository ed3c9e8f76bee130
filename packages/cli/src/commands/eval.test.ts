import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPrompt, buildQuestion, EVAL_DATA_DIR, loadDataset, loadPromptSpec } from "@rho1/math-eval";

const ROOT = join(import.meta.dir, "../../../..");
const tmp = mkdtempSync(join(tmpdir(), "rho1-eval-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rho1(args: string[], stdin?: string) {
  const proc = Bun.spawnSync(["bun", "packages/cli/src/main.ts", ...args], {
    cwd: ROOT,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

const lines = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join("\n");

describe("rho1 prompt", () => {
  test("byte-exact prompts for every record shipped in data/eval", () => {
    for (const dataset of ["gsm8k", "math500", "mathqa", "tabmwp", "sat_math"] as const) {
      const records = loadDataset(EVAL_DATA_DIR, dataset, 3);
      const { code, stdout, stderr } = rho1(
        ["prompt", "--dataset", dataset],
        lines(records.map((record) => ({ record }))),
      );
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const prompts = stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).prompt);
      const file = JSON.parse(readFileSync(join(EVAL_DATA_DIR, "prompts", `${dataset}.json`), "utf8"));
      expect(prompts).toEqual(
        records.map((r) =>
          file.template
            .replace("{prompt_text}", () => file.prompt_text)
            .replace("{question}", () => buildQuestion(dataset, r)),
        ),
      );
      expect(prompts[0]).toBe(
        buildPrompt(loadPromptSpec(EVAL_DATA_DIR, dataset), buildQuestion(dataset, records[0] as never)),
      );
    }
  });
  test("bad usage (unknown dataset) exits 2, bad input (missing record) exits 1", () => {
    expect(rho1(["prompt", "--dataset", "gsm9k"], "").code).toBe(2);
    const bad = rho1(["prompt", "--dataset", "gsm8k"], '{"nope": 1}\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("stdin:1: expected");
  });
});

describe("rho1 grade", () => {
  test("verdicts, harness and strict", () => {
    const [r0, r1] = loadDataset(EVAL_DATA_DIR, "gsm8k", 2);
    const input = lines([
      { record: r0, completion: "9 * 2 = 18. The answer is 18." },
      { record: r1, completion: "The answer is 300." },
      { record: r1, completion: "" },
    ]);
    const { code, stdout } = rho1(["grade", "--dataset", "gsm8k"], input);
    expect(code).toBe(0);
    expect(
      stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { pred: "18", gold: "18", correct: true },
      { pred: "300", gold: "3", correct: true }, // the harness's ×100 percentage variant
      { pred: null, gold: "3", correct: false },
    ]);
    const mmlu = loadDataset(EVAL_DATA_DIR, "mmlu_stem", 1)[0];
    const item = lines([{ record: mmlu, completion: "The answer is clearly (A)." }]);
    expect(JSON.parse(rho1(["grade", "--dataset", "mmlu_stem"], item).stdout)).toEqual({
      pred: "C",
      gold: "C",
      correct: true,
    });
    expect(JSON.parse(rho1(["grade", "--dataset", "mmlu_stem", "--grader", "strict"], item).stdout)).toEqual({
      pred: "placeholder",
      gold: "C",
      correct: false,
    });
    expect(rho1(["grade", "--dataset", "gsm8k", "--grader", "lax"], "").code).toBe(2);
    // A record without "completion" is bad input.
    expect(
      rho1(["grade", "--dataset", "gsm8k"], '{"record": {"question": "q", "answer": "#### 1"}}').code,
    ).toBe(1);
  });
});

describe("rho1 eval (embedded stories260K)", () => {
  // The real 8-shot/4-shot prompts are ~1,500 tokens for this 512-token vocabulary; prefilling them on the CPU
  // backend takes minutes, so this pipeline test uses the real records zero-shot (prompt_text emptied).
  const dataDir = join(tmp, "data");
  for (const dataset of ["gsm8k", "math500"]) {
    mkdirSync(join(dataDir, dataset, ""), { recursive: true });
    mkdirSync(join(dataDir, "prompts"), { recursive: true });
    writeFileSync(
      join(dataDir, dataset, "test.jsonl"),
      readFileSync(join(EVAL_DATA_DIR, dataset, "test.jsonl")),
    );
    const spec = JSON.parse(readFileSync(join(EVAL_DATA_DIR, "prompts", `${dataset}.json`), "utf8"));
    spec.prompt_text = "";
    spec.n_shots = 0;
    writeFileSync(join(dataDir, "prompts", `${dataset}.json`), JSON.stringify(spec));
  }

  test("writes samples, metrics and the summary for gsm8k and math500", () => {
    const out = join(tmp, "out");
    const args = [
      "eval",
      "--tasks",
      "gsm8k,math500",
      "--limit",
      "2",
      "--max-new-tokens",
      "4",
      "--batch-size",
      "2",
    ];
    const { code, stdout, stderr } = rho1([...args, "--data-dir", dataDir, "--out", out]);
    expect(stderr).toContain("gsm8k: acc");
    expect(code).toBe(0);
    expect(stdout).toMatch(/\| gsm8k \| math500 \|\s+avg \|/);
    for (const task of ["gsm8k", "math500"]) {
      const samples = readFileSync(join(out, task, "samples.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(samples.length).toBe(2);
      for (const s of samples) {
        expect(Object.keys(s).slice(0, 6)).toEqual([
          "idx",
          "question",
          "gold",
          "pred",
          "score",
          "completion",
        ]);
        expect(typeof s.completion).toBe("string");
        expect(s.completion).toBe(s.completion.trim());
      }
      const metrics = JSON.parse(readFileSync(join(out, task, "metrics.json"), "utf8"));
      expect(metrics.num_samples).toBe(2);
      // acc is the percentage of samples graded correct (the harness's round(…, 1)).
      const correct = samples.filter((s) => s.score === true).length;
      expect(metrics.acc).toBe((100 * correct) / 2);
    }
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).accuracies).toHaveProperty("math500");
  }, 240_000);

  test("--num-test-sample/--seed evaluate the records the harness samples, tasks sharing one generator", () => {
    // Python's selection over the full sets (seed 0, 7 per task, tasks in this order; gsm8k and math500 first).
    const run = JSON.parse(
      readFileSync(join(ROOT, "packages/math-eval/fixtures/harness-sample.json"), "utf8"),
    ).runs[0];
    expect([run.seed, run.num_test_sample, ...run.tasks.slice(0, 2)]).toEqual([0, 7, "gsm8k", "math500"]);
    const out = join(tmp, "out-sample");
    const args = ["eval", "--tasks", "gsm8k,math500", "--max-new-tokens", "1", "--num-test-sample"];
    const { code } = rho1([...args, "7", "--seed", "0", "--data-dir", dataDir, "--out", out]);
    expect(code).toBe(0);
    for (const task of ["gsm8k", "math500"]) {
      const samples = readFileSync(join(out, task, "samples.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(samples.map((s) => s.idx)).toEqual(run.selected[task]);
    }
    expect(rho1([...args, "2000", "--data-dir", dataDir, "--out", out]).stderr).toContain(
      "gsm8k: --num-test-sample 2000 is larger than the dataset (1319 records)",
    );
  }, 120_000);

  test("a real few-shot prompt longer than the model's 512 positions gets an empty completion, as in vLLM", () => {
    const out = join(tmp, "out-context");
    const args = ["eval", "--tasks", "gsm8k", "--limit", "2", "--max-new-tokens", "8", "--out", out];
    const { code, stderr } = rho1(args);
    expect(code).toBe(0);
    expect(stderr).toContain(
      "context: 2 completion(s) stopped at the model's 512 positions (prompt + completion <= max_position_embeddings",
    );
    const samples = readFileSync(join(out, "gsm8k", "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(samples.map((s) => [s.completion, s.pred, s.score])).toEqual([
      ["", null, false],
      ["", null, false],
    ]);
    expect(JSON.parse(readFileSync(join(out, "gsm8k", "metrics.json"), "utf8")).empty_samples).toBe(2);
  }, 60_000);

  test("--limit beyond a task's size says so and evaluates the whole set", () => {
    const small = join(tmp, "small");
    mkdirSync(join(small, "gsm8k"), { recursive: true });
    mkdirSync(join(small, "prompts"), { recursive: true });
    const three = readFileSync(join(dataDir, "gsm8k", "test.jsonl"), "utf8")
      .split("\n")
      .slice(0, 3);
    writeFileSync(join(small, "gsm8k", "test.jsonl"), `${three.join("\n")}\n`);
    writeFileSync(join(small, "prompts", "gsm8k.json"), readFileSync(join(dataDir, "prompts", "gsm8k.json")));
    const args = ["eval", "--tasks", "gsm8k", "--limit", "20", "--max-new-tokens", "2", "--data-dir", small];
    const r = rho1([...args, "--out", join(tmp, "out-small")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("gsm8k: --limit 20 exceeds the set's 3 records; evaluating all 3");
  }, 60_000);

  test("usage errors exit 2, bad input exits 1", () => {
    expect(rho1(["eval", "--tasks", "gsm8k", "--out", tmp, "--model", join(tmp, "no-model")]).code).toBe(1);
    expect(rho1(["eval", "--tasks", "gsm8k"]).code).toBe(2); // no --out
    expect(rho1(["eval", "--tasks", "gsm9k", "--out", tmp]).code).toBe(2);
    expect(rho1(["eval", "--tasks", "gsm8k", "--out", tmp, "--limit", "0"]).code).toBe(2);
  }, 60_000);
});
