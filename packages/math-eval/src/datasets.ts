/**
 * The ten datasets: how the harness builds each question (parser.py `parse_question`), parses each gold answer
 * (`parse_ground_truth`, called twice), and which prompt file, shots and query template it uses.
 */
import { Rho1Error } from "@rho1/io";
import { extractAnswer } from "./extract.ts";
import { pyFloat, pyFloatStr, pyInt, pyStr, pyStrip } from "./python.ts";
import { stripString } from "./strip-string.ts";

export type DatasetName =
  | "gsm8k"
  | "math500"
  | "math"
  | "svamp"
  | "asdiv"
  | "mawps"
  | "tabmwp"
  | "mathqa"
  | "mmlu_stem"
  | "sat_math";

export const DATASET_NAMES: readonly DatasetName[] = [
  "gsm8k",
  "math500",
  "math",
  "svamp",
  "asdiv",
  "mawps",
  "tabmwp",
  "mathqa",
  "mmlu_stem",
  "sat_math",
];

/** The nine columns of Rho-1 Table 1 (math500 is the paper's "MATH"); their mean is the AVG column. */
export const PAPER_TASKS: readonly DatasetName[] = DATASET_NAMES.filter((d) => d !== "math");

/** The harness's `data_name` for each dataset (math500 is `minerva_math` on `data/math_oai`). */
export const HARNESS_NAME: Record<DatasetName, string> = {
  gsm8k: "gsm8k",
  math500: "minerva_math",
  math: "math",
  svamp: "svamp",
  asdiv: "asdiv",
  mawps: "mawps",
  tabmwp: "tabmwp",
  mathqa: "mathqa",
  mmlu_stem: "mmlu_stem",
  sat_math: "sat_math",
};

export const MULTI_CHOICE: ReadonlySet<DatasetName> = new Set(["mathqa", "mmlu_stem", "sat_math"]);

export type DataRecord = Record<string, unknown>;

/** A record lacks a field or has the wrong type; names the dataset, field, expected and found values. */
export class DatasetError extends Rho1Error {
  override name = "DatasetError";
  constructor(
    readonly dataset: string,
    readonly field: string,
    expected: string,
    found: unknown,
  ) {
    super(
      "bad_record",
      `${dataset}: field '${field}' expected ${expected}, found ${JSON.stringify(found)?.slice(0, 80)}`,
      { dataset, field, expected, found },
    );
  }
}

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

function str(dataset: string, record: DataRecord, field: string): string {
  const v = record[field];
  if (typeof v !== "string") throw new DatasetError(dataset, field, "a string", v);
  return v;
}

function num(dataset: string, record: DataRecord, field: string): number {
  const v = record[field];
  if (typeof v !== "number") throw new DatasetError(dataset, field, "a number", v);
  return v;
}

/** The harness's first present key of question/problem/Question/input. */
function firstQuestionKey(dataset: string, record: DataRecord): string {
  for (const key of ["question", "problem", "Question", "input"])
    if (key in record) return str(dataset, record, key);
  throw new DatasetError(dataset, "question", "one of question/problem/Question/input", Object.keys(record));
}

/** `ast.literal_eval` for a Python list of string literals (MathQA options written as a list). */
export function parsePyStringList(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|\])/gy;
  if (!text.startsWith("[")) throw new Error("not a list");
  re.lastIndex = 1;
  if (/^\[\s*\]$/.test(text)) return out;
  for (;;) {
    const m = re.exec(text);
    if (!m) throw new Error(`not a Python list of strings: ${text.slice(0, 60)}`);
    const raw = m[1] ?? m[2] ?? "";
    out.push(raw.replace(/\\(.)/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r" })[c] ?? c));
    if (m[3] === "]") {
      if (text.slice(re.lastIndex).trim() !== "") throw new Error("trailing text after list");
      return out;
    }
  }
}

const CHOICE_PROMPT = "\nWhat of the following is the right choice? Explain your answer.\n";

function questionText(dataset: DatasetName, r: DataRecord): string {
  switch (dataset) {
    case "gsm8k":
    case "math":
    case "math500":
      return firstQuestionKey(dataset, r);
    case "mawps":
      return str(dataset, r, "input");
    case "svamp": {
      let body = pyStrip(str(dataset, r, "Body"));
      if (!body.endsWith(".")) body += ".";
      return `${body} ${pyStrip(str(dataset, r, "Question"))}`;
    }
    case "asdiv":
      return `${pyStrip(str(dataset, r, "body"))} ${pyStrip(str(dataset, r, "question"))}`;
    case "tabmwp": {
      const title = r.table_title;
      const titleStr = typeof title === "string" && title !== "" ? `regarding "${title}" ` : "";
      let q = `Read the following table ${titleStr}and answer a question:\n${str(dataset, r, "table")}\n${str(dataset, r, "question")}`;
      const choices = r.choices;
      if (Array.isArray(choices) && choices.length > 0)
        q += ` Please select from the following options: ${pyStr(choices)}`;
      return q;
    }
    case "mmlu_stem": {
      const choices = r.choices;
      if (!Array.isArray(choices)) throw new DatasetError(dataset, "choices", "a list", choices);
      const opts = choices.map((c, i) => `(${"ABCD"[i]}) ${pyStrip(pyStr(c))}`).join(", ");
      return pyStrip(str(dataset, r, "question")) + CHOICE_PROMPT + opts;
    }
    case "sat_math": {
      let opts = `(${pyStrip(str(dataset, r, "options"))}`;
      for (const ch of "BCD") if (opts.includes(` ${ch}) `)) opts = opts.replaceAll(` ${ch}) `, ` (${ch}) `);
      return pyStrip(str(dataset, r, "question")) + CHOICE_PROMPT + pyStrip(opts);
    }
    case "mathqa": {
      let problem = str(dataset, r, "problem");
      problem = (problem[0] ?? "").toUpperCase() + problem.slice(1);
      let opts = pyStrip(str(dataset, r, "options"));
      if (opts.startsWith("[")) opts = parsePyStringList(opts).join(", ");
      for (const ch of "abcde") {
        if (opts.includes(`${ch} ) `)) {
          opts = opts.replaceAll(`${ch} ) ${ch} ) `, `${ch} ) `);
          opts = opts.replaceAll(`${ch} ) `, `(${ch.toUpperCase()}) `);
        }
      }
      opts = opts.replaceAll(" , ", ", ");
      return pyStrip(problem) + CHOICE_PROMPT + pyStrip(opts);
    }
  }
}

/** The harness's `parse_question`: the question text, with the (True or False)/(Yes or No) hint. */
export function buildQuestion(dataset: DatasetName, record: DataRecord): string {
  let q = questionText(dataset, record);
  const gold = firstGold(dataset, record).toLowerCase();
  if (gold === "true" || gold === "false") q += " (True or False)";
  if (gold === "yes" || gold === "no") q += " (Yes or No)";
  return pyStrip(q);
}

/** The gold answer before any strip_string (`gt_ans` of the first parse_ground_truth, before its last line). */
export function rawGold(dataset: DatasetName, r: DataRecord): string {
  switch (dataset) {
    case "math":
    case "math500":
      return extractAnswer(str(dataset, r, "solution"));
    case "gsm8k": {
      const parts = str(dataset, r, "answer").split("####");
      if (parts.length !== 2)
        throw new DatasetError(dataset, "answer", "text with exactly one '####'", r.answer);
      return parts[1] as string;
    }
    case "svamp":
      return pyFloatStr(num(dataset, r, "Answer"));
    case "mawps":
      return pyFloatStr(num(dataset, r, "target"));
    case "asdiv":
      return str(dataset, r, "answer").replace(/\(.*?\)/g, "");
    case "tabmwp": {
      const answer = str(dataset, r, "answer");
      const type = r.ans_type;
      if (type !== "integer_number" && type !== "decimal_number") return answer;
      if (answer.includes("/")) {
        const [a, b] = answer.split("/").map((x) => pyInt(x));
        if (a == null || b == null) throw new DatasetError(dataset, "answer", "int/int", answer);
        return pyFloatStr(Number(a) / Number(b)); // exact below 2^53, as the gold fractions are
      }
      let v: number | null;
      if (answer.includes(",")) v = pyFloat(answer.replaceAll(",", ""));
      else if (answer.includes("%")) {
        const w = pyFloat(answer.split("%")[0] as string);
        v = w === null ? null : w / 100;
      } else v = pyFloat(answer);
      if (v === null) throw new DatasetError(dataset, "answer", "a number", answer);
      return pyFloatStr(v);
    }
    case "mathqa": {
      const c = str(dataset, r, "correct").toUpperCase();
      if (!"ABCDE".includes(c) || c.length !== 1)
        throw new DatasetError(dataset, "correct", "a letter a-e", c);
      return c;
    }
    case "mmlu_stem": {
      const a = num(dataset, r, "answer");
      const letter = "ABCD"[a];
      if (letter === undefined) throw new DatasetError(dataset, "answer", "0..3", a);
      return letter;
    }
    case "sat_math":
      return str(dataset, r, "Answer");
  }
}

/** The gold after the first `parse_ground_truth` (stored as `gt` in the harness's samples). */
export function firstGold(dataset: DatasetName, record: DataRecord): string {
  return stripString(rawGold(dataset, record));
}

/**
 * The gold that `evaluate()` compares against: `math` re-extracts from the solution (1 strip pass in total);
 * every other dataset, minerva_math included, strips the stored gt once more (2 passes, 3 for math500).
 */
export function evalGold(dataset: DatasetName, record: DataRecord): string {
  if (dataset === "math") return rawGold(dataset, record);
  return stripString(firstGold(dataset, record));
}
