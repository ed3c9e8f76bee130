import { expect, test } from "bun:test";
import { buildPrompt, buildQuestion, EVAL_DATA_DIR, gradeCompletion, loadPromptSpec } from "./index.ts";

test("README snippet", () => {
  const record = {
    question: "Tom has 3 apples and buys 2 more. How many apples does he have?",
    answer: "3+2=5\n#### 5",
  };
  const prompt = buildPrompt(loadPromptSpec(EVAL_DATA_DIR, "gsm8k"), buildQuestion("gsm8k", record));
  expect(prompt).toEndWith(
    "\n\n\nQuestion: Tom has 3 apples and buys 2 more. How many apples does he have?\nAnswer:",
  );
  expect(gradeCompletion("gsm8k", record, "He has 3 + 2 = 5 apples. The answer is 5 apples.")).toEqual({
    pred: "5",
    gold: "5",
    correct: true,
  });
  expect(gradeCompletion("gsm8k", record, "The answer is 500.")).toEqual({
    pred: "500",
    gold: "5",
    correct: true,
  });
  expect(
    gradeCompletion(
      "mmlu_stem",
      { question: "q", choices: ["a", "b", "c", "d"], answer: 2 },
      "The answer is clearly (A).",
    ),
  ).toEqual({
    pred: "C",
    gold: "C",
    correct: true,
  });
});
