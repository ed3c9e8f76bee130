import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { TASK_RECORD_COUNTS } from "@rho1/math-eval-data";
import {
  buildQuestion,
  DATASET_NAMES,
  type DataRecord,
  DatasetError,
  evalGold,
  firstGold,
  parsePyStringList,
  rawGold,
} from "./datasets.ts";
import { loadDataset } from "./evaluate.ts";
import { EVAL_DATA_DIR } from "./paths.ts";
import { buildPrompt, loadPromptSpec, PromptFileError } from "./prompts.ts";

const CHOICE = "\nWhat of the following is the right choice? Explain your answer.\n";
const first = (name: (typeof DATASET_NAMES)[number]) => loadDataset(EVAL_DATA_DIR, name, 1)[0] as DataRecord;

describe("question builders (spec §1.1)", () => {
  test("svamp: body gets a final '.', then the question", () => {
    expect(buildQuestion("svamp", first("svamp"))).toBe(
      "There are 87 oranges and 290 bananas in Philip's collection. If the bananas are organized into 2 groups and oranges are organized into 93 groups. How big is each group of bananas?",
    );
  });
  test("asdiv: body + ' ' + question", () => {
    expect(buildQuestion("asdiv", first("asdiv"))).toBe(
      "Seven red apples and two green apples are in the basket. How many apples are in the basket?",
    );
  });
  test("mmlu_stem: (A) ..., (B) ... joined with ', '", () => {
    expect(buildQuestion("mmlu_stem", first("mmlu_stem"))).toBe(
      `Based on the characteristic population curves that result from plotting population growth of a species, the most effective means of controlling the mosquito population is to${CHOICE}(A) maintain the population at a point corresponding to the midpoint of its logistic curve, (B) opt for zero population control once the K value of the curve has been reached, (C) reduce the carrying capacity cif the environment to lower the K value, (D) increase the mortality rate`,
    );
  });
  test("sat_math: '(' prefix, ' B) ' -> ' (B) ', space separated", () => {
    expect(buildQuestion("sat_math", first("sat_math"))).toBe(
      `The graph of the polynomial function $f$, where $y=f(x)$, has $x$-intercepts of $(-6,0)$ and $(6,0)$. Which of the following must be true?${CHOICE}(A) $f(-6)=0$ (B) $f(6)=-6$ (C) $f(-6)=6$ (D) $f(0)=-6$`,
    );
  });
  test("mathqa: capitalised, 'a ) ' -> '(A) ', ' , ' -> ', '", () => {
    expect(buildQuestion("mathqa", first("mathqa"))).toBe(
      `If log 8 x + log 8 1 / 6 = 1 / 3 , then the value of x is :${CHOICE}(A) 12, (B) 16, (C) 18, (D) 24, (E) 26`,
    );
  });
  test("mathqa: options written as a Python list, doubled 'a ) a ) '", () => {
    const r = { problem: "a and b ?", options: "['a ) 1 : 8 .', 'b ) 1 : 2 .', 'c ) c ) 3']", correct: "d" };
    expect(buildQuestion("mathqa", r)).toBe(`A and b ?${CHOICE}(A) 1 : 8 ., (B) 1 : 2 ., (C) 3`);
    expect(parsePyStringList(`['x', "it's", 'a\\'b']`)).toEqual(["x", "it's", "a'b"]);
    expect(() => parsePyStringList("['x', 3]")).toThrow();
  });
  test("tabmwp: title, table, Python list repr of choices, (Yes or No) hint", () => {
    const r = {
      question: "Which event ends at 2.45 P.M.?",
      choices: ["men's vault event", "women's vault"],
      answer: "men's vault event",
      table_title: "Gymnastics meet schedule",
      table: "Event | End\nmen's vault | 2:45 P.M.",
      ans_type: "other_text",
    };
    expect(buildQuestion("tabmwp", r)).toBe(
      `Read the following table regarding "Gymnastics meet schedule" and answer a question:\nEvent | End\nmen's vault | 2:45 P.M.\nWhich event ends at 2.45 P.M.? Please select from the following options: ["men's vault event", 'women's vault']`.replace(
        "'women's vault'",
        `"women's vault"`,
      ),
    );
    const yes = {
      question: "Enough?",
      choices: ["yes", "no"],
      answer: "yes",
      table_title: null,
      table: "a | b",
      ans_type: "boolean_text",
    };
    expect(buildQuestion("tabmwp", yes)).toBe(
      "Read the following table and answer a question:\na | b\nEnough? Please select from the following options: ['yes', 'no'] (Yes or No)",
    );
  });
  test("gsm8k/math500 take the first of question/problem/Question/input", () => {
    expect(buildQuestion("gsm8k", first("gsm8k"))).toStartWith("Janet’s ducks lay 16 eggs per day.");
    expect(buildQuestion("math500", first("math500"))).toStartWith("Convert the point $(0,3)$");
  });
  test("bad records name dataset and field", () => {
    expect(() => buildQuestion("svamp", { Body: 3, Question: "q", Answer: 1 })).toThrow(DatasetError);
    expect(() => evalGold("mmlu_stem", { question: "q", choices: [], answer: 7 })).toThrow(/answer/);
    expect(() => evalGold("gsm8k", { question: "q", answer: "no marker" })).toThrow(/####/);
  });
});

describe("gold answers and strip pass counts (spec §3, §7)", () => {
  test("gsm8k: text after ####, stripped twice", () => {
    expect(rawGold("gsm8k", { answer: "x\n#### 2,125" })).toBe(" 2,125");
    expect(evalGold("gsm8k", { answer: "x\n#### 2,125" })).toBe("2,125");
  });
  test("svamp/mawps floats print like Python, then lose .0", () => {
    expect(rawGold("svamp", first("svamp"))).toBe("145.0");
    expect(evalGold("svamp", first("svamp"))).toBe("145");
    expect(evalGold("mawps", { input: "q", target: 0.5 })).toBe("0.5");
  });
  test("asdiv: parentheses removed, two passes ('3:30 p.m.' -> '3:30p')", () => {
    expect(evalGold("asdiv", first("asdiv"))).toBe("9");
    expect(evalGold("asdiv", { body: "b", question: "q", answer: "3:30 p.m." })).toBe("3:30p");
  });
  test("math500 (minerva_math): three passes; math: one", () => {
    expect(evalGold("math500", first("math500"))).toBe("(3,\\frac{\\pi}{2})");
    const sol = { problem: "p", solution: "So $\\boxed{x \\in [-2,7]}$." };
    expect(evalGold("math", sol)).toBe("x\\in[-2,7]");
    expect(evalGold("math500", sol)).toBe("[-2,7]");
  });
  test("tabmwp numbers: int/int, commas, percent, via Python float", () => {
    const t = (answer: string, ans_type = "decimal_number") => rawGold("tabmwp", { answer, ans_type });
    expect(t("3/10")).toBe("0.3");
    expect(t("2/11")).toBe("0.18181818181818182");
    expect(t("4,656", "integer_number")).toBe("4656.0");
    expect(t("45%")).toBe("0.45");
    expect(t("yes", "boolean_text")).toBe("yes");
    expect(evalGold("tabmwp", { answer: "4,656", ans_type: "integer_number" })).toBe("4656");
  });
  test("MC golds", () => {
    expect(evalGold("mathqa", first("mathqa"))).toBe("A");
    expect(evalGold("mmlu_stem", first("mmlu_stem"))).toBe("C");
    expect(evalGold("sat_math", first("sat_math"))).toBe("A");
    expect(firstGold("mathqa", { correct: "e" })).toBe("E");
  });
});

describe("prompts (byte-exact)", () => {
  for (const name of DATASET_NAMES) {
    test(`${name}: prompt_text + "\\n\\n\\n" + query block`, () => {
      const file = JSON.parse(readFileSync(join(EVAL_DATA_DIR, "prompts", `${name}.json`), "utf8"));
      // The exemplars reassemble into prompt_text exactly (the data's own invariant).
      const rebuilt = (file.exemplars as { question: string; answer: string }[])
        .map((e) =>
          file.exemplar_template.replace("{question}", () => e.question).replace("{answer}", () => e.answer),
        )
        .join(file.exemplar_separator);
      expect(rebuilt).toBe(file.prompt_text);
      expect(file.exemplars.length).toBe(file.n_shots);
      const spec = loadPromptSpec(EVAL_DATA_DIR, name);
      const record = first(name);
      const q = buildQuestion(name, record);
      expect(buildPrompt(spec, q)).toBe(
        file.template.replace("{prompt_text}", () => file.prompt_text).replace("{question}", () => q),
      );
    });
  }
  test("shot counts, query templates, and the MATH prompt's doubled backslashes", () => {
    const shots = Object.fromEntries(DATASET_NAMES.map((n) => [n, loadPromptSpec(EVAL_DATA_DIR, n).n_shots]));
    expect(shots).toEqual({
      gsm8k: 8,
      math500: 4,
      math: 5,
      svamp: 8,
      asdiv: 8,
      mawps: 8,
      tabmwp: 8,
      mathqa: 4,
      mmlu_stem: 4,
      sat_math: 4,
    });
    const m = loadPromptSpec(EVAL_DATA_DIR, "math500");
    expect(m.prompt_text).toContain("$\\\\frac{\\\\sqrt{x-2}}{\\\\sqrt{5-x}}$.}");
    expect(m.prompt_text.startsWith("Problem:\nFind the domain")).toBe(true);
    expect(buildPrompt(m, "Q$&")).toEndWith("\n\n\nProblem:\nQ$&\nSolution:");
    const g = loadPromptSpec(EVAL_DATA_DIR, "gsm8k");
    expect(buildPrompt(g, "Q")).toEndWith("The answer is 8.\n\n\nQuestion: Q\nAnswer:");
    expect(buildPrompt(g, "Q")).toEndWith("\n\n\nQuestion: Q\nAnswer:");
    expect(loadPromptSpec(EVAL_DATA_DIR, "mathqa").prompt_text).toContain("×");
  });
  test("a missing prompt file is a PromptFileError naming it", () => {
    expect(() => loadPromptSpec("/nonexistent", "gsm8k")).toThrow(PromptFileError);
  });
});

// The project's shared fixtures (the harness's files, copied verbatim), present for developers and CI.
const SHARED_EVAL = join(import.meta.dir, "../../../../shared/data/eval");

describe("full test sets (@rho1/math-eval-data)", () => {
  test("every record of every dataset builds a question and a gold; counts are the harness's", () => {
    const counts: Record<string, number> = {};
    const firstGold: Record<string, string> = {};
    for (const name of DATASET_NAMES) {
      const records = loadDataset(EVAL_DATA_DIR, name);
      for (const r of records) {
        expect(buildQuestion(name, r).length).toBeGreaterThan(0);
        evalGold(name, r); // throws a DatasetError on a record it cannot read
      }
      counts[name] = records.length;
      firstGold[name] = String(evalGold(name, records[0] as (typeof records)[number]));
    }
    // The harness's gold for the first record of each set (from its parse_ground_truth).
    expect(firstGold).toMatchObject({
      gsm8k: "18",
      math500: "(3,\\frac{\\pi}{2})",
      svamp: "145",
      mathqa: "A",
      mmlu_stem: "C",
      sat_math: "A",
    });
    // Every task as shipped, and the published test-set sizes where they are well known.
    expect(counts).toEqual({ ...TASK_RECORD_COUNTS });
    expect(counts).toMatchObject({ gsm8k: 1319, math500: 500, math: 5000, svamp: 1000 });
    // math500's 'answer' field is the gold too: three strip passes of it give the same string
    const { stripTimes } = require("./strip-string.ts") as typeof import("./strip-string.ts");
    for (const r of loadDataset(EVAL_DATA_DIR, "math500"))
      expect(evalGold("math500", r)).toBe(stripTimes(r.answer as string, 3));
    // the Python-list options of MathQA
    const listed = loadDataset(EVAL_DATA_DIR, "mathqa").filter((r) => (r.options as string).startsWith("["));
    expect(listed.length).toBe(16);
    for (const r of listed) expect(buildQuestion("mathqa", r)).toMatch(/\(A\) .*, \(B\) /);
  }, 60_000);

  test.skipIf(!fixturesPresent(SHARED_EVAL))("the shipped files are byte-identical to the harness's", () => {
    for (const name of [
      ...DATASET_NAMES.map((n) => `${n}/test.jsonl`),
      ...DATASET_NAMES.map((n) => `prompts/${n}.json`),
    ])
      expect(readFileSync(join(EVAL_DATA_DIR, name)).equals(readFileSync(join(SHARED_EVAL, name)))).toBe(
        true,
      );
  });
});
