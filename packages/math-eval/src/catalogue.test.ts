/**
 * Spec §9 catalogue, end to end (record + raw completion -> verdict), with the pinned harness's verdicts.
 * No held-out set of real completions with harness verdicts exists in ../shared, so these are the reference.
 */
import { describe, expect, test } from "bun:test";
import type { DatasetName } from "./datasets.ts";
import { gradeCompletion } from "./grade.ts";

const gsm = (gold: string) => ({ question: "q", answer: `work\n#### ${gold}` });
const math = (boxed: string) => ({ problem: "p", solution: `So $\\boxed{${boxed}}$.`, answer: boxed });
const minerva = (ans: string) =>
  `Some work.\nFinal Answer: The final answer is $${ans}$. I hope it is correct.`;

const cases: [string, DatasetName, Record<string, unknown>, string, boolean, string | null][] = [
  // 1. percentage variants and tolerance
  ["×100 accepted on GSM8K", "gsm8k", gsm("25"), "So 25 * 100 = 2500. The answer is 2500.", true, "2500"],
  ["÷100 accepted", "gsm8k", gsm("300"), "The answer is 3.", true, "3"],
  ["0.02 hours for 2", "gsm8k", gsm("2"), "The answer is 0.02 hours.", true, "0.02"],
  ["thousands comma in gold", "gsm8k", gsm("2,125"), "The answer is 2125.", true, "2125"],
  ["4.67 vs 14/3 fails (rel_tol 1e-4)", "math500", math("\\frac{14}{3}"), minerva("4.67"), false, "4.67"],
  // 2. unit list
  ["dollars are not a unit", "gsm8k", gsm("18"), "The answer is 18 dollars.", false, "18dollars"],
  ["miles are", "gsm8k", gsm("25"), "The answer is 25 miles.", true, "25"],
  ["old is not", "gsm8k", gsm("20"), "The answer is 20 years old.", false, "20old"],
  // 3. Minerva marker
  [
    "Minerva without $...$ is garbage",
    "math500",
    math("72"),
    "The final answer is 72. I hope it is correct.",
    false,
    "72Ihopeitiscorrect",
  ],
  ["first Minerva marker wins", "math500", math("4"), `${minerva("3")}\n${minerva("4")}`, false, "3"],
  ["doubled backslashes", "math500", math("\\frac{4}{9}"), minerva("\\\\frac{4}{9}"), true, "\\\\frac{4}{9}"],
  // 4. boxed anywhere beats "The answer is"
  [
    "boxed in a word",
    "gsm8k",
    gsm("7"),
    "The lego boxed set costs 5. The answer is 7.",
    false,
    "setcosts5Theansweris7",
  ],
  // 5. last "The answer is"
  ["last answer-is wins", "gsm8k", gsm("18"), "The answer is 3. Wait, the answer is 18.", true, "18"],
  [
    "run-on next question",
    "gsm8k",
    gsm("18"),
    "The answer is 18.\nQuestion: How many? The answer is",
    false,
    "",
  ],
  // 6. equations
  ["80 + 150 = 230 fails", "gsm8k", gsm("230"), "The answer is 80 + 150 = 230.", false, "80+150=230"],
  ["x = 5 passes", "math500", math("5"), minerva("x = 5"), true, "5"],
  // 7. word2number
  ["number words", "gsm8k", gsm("18"), "The answer is eighteen.", true, "18"],
  ["1.45 million -> 1000000", "gsm8k", gsm("1450000"), "The answer is 1.45 million.", false, "1000000"],
  // 8. mixed numbers and \mbox in golds
  [
    "mixed-number gold is a product",
    "math500",
    math("1\\frac{4}{5}"),
    minerva("\\frac{9}{5}"),
    false,
    "\\frac{9}{5}",
  ],
  ["...so 4/5 matches it", "math500", math("1\\frac{4}{5}"), minerva("\\frac{4}{5}"), true, "\\frac{4}{5}"],
  ["\\mbox gold becomes 864^2", "math500", math("864 \\mbox{ inches}^2"), minerva("864"), false, "864"],
  // 9. intervals and tuples
  ["interval brackets ignored", "math500", math("[2,5)"), minerva("(2,5)"), true, "(2,5)"],
  ["order matters", "math500", math("(1,2)"), minerva("(2,1)"), false, "(2,1)"],
  [
    "polar point",
    "math500",
    math("\\left( 3, \\frac{\\pi}{2} \\right)"),
    minerva("(3, \\frac{\\pi}{2})"),
    true,
    "(3,\\frac{\\pi}{2})",
  ],
  ["π decimal rejected", "math500", math("\\frac{\\pi}{2}"), minerva("1.5708"), false, "1.5708"],
  [
    "x \\in interval gold after 3 passes",
    "math500",
    math("x \\in [-2,7]"),
    minerva("[-2,7]"),
    true,
    "[-2,7]",
  ],
  // MC
  [
    "clearly -> C",
    "mmlu_stem",
    { question: "q", choices: ["a", "b", "c", "d"], answer: 2 },
    "The answer is clearly (A).",
    true,
    "C",
  ],
  [
    "colon -> placeholder",
    "mmlu_stem",
    { question: "q", choices: ["a", "b", "c", "d"], answer: 0 },
    "The answer is: (A).",
    false,
    "placeholder",
  ],
  [
    "mathqa choice is",
    "mathqa",
    { problem: "p", options: "a ) 1 , b ) 2", correct: "b" },
    "The correct choice is (b).",
    true,
    "B",
  ],
  [
    "sat E on 4 choices",
    "sat_math",
    { question: "q", options: "A) 1 B) 2", Answer: "A" },
    "The answer is (E)",
    false,
    "E",
  ],
  // golds printed like Python
  [
    "svamp float gold",
    "svamp",
    { Body: "b", Question: "q", Answer: 145.0 },
    "The answer is 145.",
    true,
    "145",
  ],
  ["mawps", "mawps", { input: "q", target: 0.25 }, "The answer is 25%.", true, "25"],
  [
    "asdiv p.m. gold",
    "asdiv",
    { body: "b", question: "q", answer: "3:30 p.m." },
    "The answer is 3:30 p.m.",
    true,
    "3:30p",
  ],
  [
    "tabmwp fraction gold",
    "tabmwp",
    { question: "q", table: "t", answer: "3/10", ans_type: "decimal_number" },
    "The answer is 3/10.",
    true,
    "\\frac{3}{10}",
  ],
  [
    "tabmwp yes",
    "tabmwp",
    { question: "q", table: "t", answer: "yes", ans_type: "boolean_text" },
    "The answer is Yes.",
    true,
    "Yes",
  ],
  ["empty completion", "gsm8k", gsm("5"), "  \n ", false, null],
];

describe("spec §9 catalogue, harness grader", () => {
  for (const [name, dataset, record, completion, correct, pred] of cases) {
    test(name, () => {
      const v = gradeCompletion(dataset, record, completion);
      expect({ pred: v.pred, correct: v.correct }).toEqual({ pred, correct });
    });
  }
});

describe("strict grader fixes", () => {
  test("Minerva line without $, clearly, colon, run-on question", () => {
    expect(
      gradeCompletion("math500", math("72"), "The final answer is 72. I hope it is correct.", "strict")
        .correct,
    ).toBe(true);
    const mc = { question: "q", choices: ["a", "b", "c", "d"], answer: 0 };
    expect(gradeCompletion("mmlu_stem", mc, "The answer is: (A).", "strict").correct).toBe(true);
    expect(
      gradeCompletion("mmlu_stem", { ...mc, answer: 2 }, "The answer is clearly (A).", "strict").correct,
    ).toBe(false);
    expect(
      gradeCompletion("gsm8k", gsm("18"), "The answer is 18.\nQuestion: How many? The answer is", "strict")
        .correct,
    ).toBe(true);
  });
});
