import {
  DATASET_NAMES,
  type DatasetName,
  EVAL_DATA_DIR,
  evaluate,
  type Generator,
  isDatasetName,
  modelGenerator,
} from "@rho1/math-eval";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, setupBackend } from "@rho1/transformer";
import {
  type Command,
  DEFAULT_MODEL,
  numberOption,
  parseCommandArgs,
  requireOption,
  UsageError,
} from "../command.ts";
import { graderOption } from "./grade.ts";

const USAGE = `usage: rho1 eval --tasks gsm8k,math500,... --out DIR [--model DIR] [--num-test-sample N] [--seed S]
                 [--limit N] [--batch-size N] [--max-new-tokens N] [--grader harness|strict] [--data-dir DIR]

Few-shot chain-of-thought math evaluation, faithful to the harness behind Rho-1's tables: greedy decoding,
stop at "</s>", "\\n\\nQuestion:", "\\n\\nProblem:" or EOS, the harness's answer extraction and grading.
Writes DIR/<task>/samples.jsonl (idx, question, gold, pred, score, completion), DIR/<task>/metrics.json
(num_samples, acc, timeout/empty counts, type_acc, and both graders' accuracies), DIR/summary.{json,md}.

  --model DIR          Hugging Face folder (default: the embedded stories260K, @rho1/model-stories260k)
  --tasks LIST         comma-separated: ${DATASET_NAMES.join(", ")} (math500 is the paper's MATH)
  --out DIR            output folder
  --num-test-sample N  a random sample of N records per task, exactly the records the harness's
                       --num_test_sample N --seed S picks (Python's random, seeded once, tasks in
                       --tasks order); default: all records
  --seed S             the sampling seed (default 0, the harness's default)
  --limit N            the first N records per task (after sampling, if any); not the harness's sample
  --batch-size N       prompts per generate call (default 8)
  --max-new-tokens N   default 1024 (the harness's max_tokens); each row gets at most
                       max_position_embeddings − prompt length (vLLM's max_model_len), none if the prompt fills it
  --grader KIND        harness (default) or strict
  --data-dir DIR       folder with <task>/test.jsonl and prompts/<task>.json (default: the full test sets
                       shipped in @rho1/math-eval-data: gsm8k 1,319 records, math500 500, math 5,000, ...)`;

export function tasksOption(values: Record<string, unknown>): DatasetName[] {
  const raw = requireOption(values, "tasks");
  const tasks = raw
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  if (tasks.length === 0) throw new UsageError("--tasks expects a comma-separated list, found none");
  for (const t of tasks)
    if (!isDatasetName(t))
      throw new UsageError(`--tasks: unknown task "${t}" (one of ${DATASET_NAMES.join(", ")})`);
  return tasks as DatasetName[];
}

export const command: Command = {
  name: "eval",
  summary: "Few-shot math evaluation (GSM8K, MATH500, ...) faithful to the Rho-1 harness",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: "string" },
      tasks: { type: "string" },
      out: { type: "string" },
      limit: { type: "string" },
      "num-test-sample": { type: "string" },
      seed: { type: "string" },
      "batch-size": { type: "string" },
      "max-new-tokens": { type: "string" },
      grader: { type: "string" },
      "data-dir": { type: "string" },
    });
    const tasks = tasksOption(values);
    const outDir = requireOption(values, "out");
    const limit =
      values.limit === undefined ? undefined : numberOption(values, "limit", 0, { integer: true, min: 1 });
    const numTestSample =
      values["num-test-sample"] === undefined
        ? undefined
        : numberOption(values, "num-test-sample", 0, { integer: true, min: 1 });
    const seed = numberOption(values, "seed", 0, { integer: true });
    const batchSize = numberOption(values, "batch-size", 8, { integer: true, min: 1 });
    const maxNewTokens = numberOption(values, "max-new-tokens", 1024, { integer: true, min: 1 });
    const grader = graderOption(values);
    const modelDir = values.model ?? DEFAULT_MODEL;

    await setupBackend();
    const [model, tokenizer] = await Promise.all([CausalLM.load(modelDir), loadTokenizer(modelDir)]);
    let tokens = 0;
    let seconds = 0;
    let limited = 0;
    // generateAsync reads each step with `await data()`: every backend, WebGPU included.
    const generate = { generate: model.generateAsync.bind(model) };
    const generator: Generator = modelGenerator(generate, tokenizer, {
      maxNewTokens,
      onBatch: (n, s, atContext) => {
        tokens += n;
        seconds += s;
        limited += atContext;
      },
    });
    try {
      const summary = await evaluate({
        tasks,
        dataDir: values["data-dir"] ?? EVAL_DATA_DIR,
        outDir,
        generator,
        limit,
        numTestSample,
        seed,
        batchSize,
        grader,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${summary.table}\n`);
      if (seconds > 0)
        process.stderr.write(
          `generation: ${tokens} new tokens in ${seconds.toFixed(1)} s (${(tokens / seconds).toFixed(1)} tokens/s)\n`,
        );
      if (limited > 0)
        process.stderr.write(
          `context: ${limited} completion(s) stopped at the model's ${model.config.maxPositionEmbeddings} positions (prompt + completion <= max_position_embeddings, as vLLM's max_model_len)\n`,
        );
    } finally {
      model.dispose();
    }
    return 0;
  },
};
