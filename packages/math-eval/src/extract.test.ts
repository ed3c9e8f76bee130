import { describe, expect, test } from "bun:test";
import { extractAnswer, extractMultiChoiceAnswer } from "./extract.ts";
import { extractPrediction } from "./grade.ts";

describe("multiple choice (spec §4.1)", () => {
  const mc = (text: string, strict = false) => extractMultiChoiceAnswer(text, strict);
  test("first 'answer is' match, letter upper-cased", () => {
    expect(mc("The final answer is (B).")).toBe("B");
    expect(mc("the answer is b")).toBe("B");
    expect(mc("The correct choice is (D)")).toBe("D");
    expect(mc("The answer is (A). Later: the answer is (B).")).toBe("A");
  });
  test("no match gives the literal placeholder", () => {
    expect(mc("answer is: (A)")).toBe("placeholder");
    expect(mc("Answer: (A)")).toBe("placeholder");
    expect(mc("…which is choice (B)")).toBe("placeholder");
    expect(mc("The answer is 24 days, option (D)")).toBe("placeholder");
  });
  test("the letter-after-'answer is ' trap: clearly -> C, definitely -> D, emphatically -> E", () => {
    expect(mc("the answer is clearly (A)")).toBe("C");
    expect(mc("The answer is definitely (B)")).toBe("D");
    expect(mc("the answer is emphatically (A)")).toBe("E");
  });
  test("text after the first 'Problem:' is ignored", () => {
    expect(mc("I think so.\n\nProblem:\nthe answer is (B)")).toBe("placeholder");
  });
  test("strict grader reads a standalone letter, with an optional colon", () => {
    expect(mc("the answer is clearly (A)", true)).toBe("placeholder");
    expect(mc("answer is: (A)", true)).toBe("A");
    expect(mc("The final answer is (B).", true)).toBe("B");
    expect(mc("the answer is b", true)).toBe("B");
  });
});

describe("free-form extraction (spec §4.2)", () => {
  test("1. Minerva: first marker up to the first '$. I hope'", () => {
    expect(extractAnswer("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.")).toBe(
      "\\frac{1}{2}",
    );
    expect(
      extractAnswer(
        "Final Answer: The final answer is $3$. I hope it is correct.\nFinal Answer: The final answer is $4$. I hope it is correct.",
      ),
    ).toBe("3");
  });
  test("1. without $...$ the Minerva branch does not fire (harness) / does (strict)", () => {
    expect(extractAnswer("The final answer is 72. I hope it is correct.")).toBe("72Ihopeitiscorrect");
    expect(extractAnswer("The final answer is 72. I hope it is correct.", true)).toBe("72");
  });
  test("2. boxed anywhere, the last one, brace matching, unbalanced, bare", () => {
    expect(extractAnswer("so $\\boxed{\\frac{1}{2}}$.")).toBe("\\frac{1}{2}");
    expect(extractAnswer("\\boxed{1} then \\boxed{2}")).toBe("2");
    expect(extractAnswer("\\boxed{\\frac{1}{2}")).toBe("\\frac{1}{2}");
    expect(extractAnswer("\\boxed 5$ done")).toBe("5");
    expect(extractAnswer("the answer is boxed")).toBe("");
    // "boxed" in an ordinary word takes priority over "The answer is"
    expect(extractAnswer("A lego boxed set costs 5. The answer is 7.")).toBe("setcosts5Theansweris7");
  });
  test("3. last 'he answer is' wins; run-on lines are joined", () => {
    expect(extractAnswer("The answer is 3. So the answer is 18.")).toBe("18");
    expect(extractAnswer("The answer is 18.\nQuestion: what")).toBe("18Question:what");
    expect(extractAnswer("The answer is 18 dollars.")).toBe("18dollars");
    expect(extractAnswer("The answer is 5 apples.")).toBe("5");
  });
  test("4. 'final answer is' without the Minerva markers", () => {
    expect(extractAnswer("My final answer is 12")).toBe("12");
  });
  test("5. last number, commas removed", () => {
    expect(extractAnswer("She has 1,234 and then 56.7")).toBe("56.7");
    expect(extractAnswer("no digits here")).toBe("");
    expect(extractAnswer("went -3 then .5")).toBe("0.5");
  });
  test("post-processing: one leading ':', one trailing '.', one trailing '/'", () => {
    expect(extractAnswer("The answer is: 5.")).toBe("5");
    expect(extractAnswer("The answer is 5/")).toBe("5");
  });
  test("equation answers: k = 5 passes, 80 + 150 = 230 stays an equation", () => {
    expect(extractAnswer("The answer is k = 5.")).toBe("5");
    expect(extractAnswer("The answer is 80 + 150 = 230.")).toBe("80+150=230");
  });
});

describe("run_execute", () => {
  test("empty completion -> null; MC stripped once, free-form twice", () => {
    expect(extractPrediction("gsm8k", "   ")).toBeNull();
    expect(extractPrediction("mmlu_stem", "The answer is (c)")).toBe("C");
    expect(extractPrediction("gsm8k", "The answer is 3:30 p.m.")).toBe("3:30p");
  });
  test("strict cuts a hallucinated next question after a single newline", () => {
    expect(extractPrediction("gsm8k", "The answer is 18.\nQuestion: The answer is 5.")).toBe("5");
    expect(extractPrediction("gsm8k", "The answer is 18.\nQuestion: The answer is 5.", "strict")).toBe("18");
  });
});
