/**
 * The eval loop of `math_eval.py` + `evaluate.py`: per dataset, prompts -> completions -> predictions ->
 * verdicts; writes the samples (JSON lines) and the metrics JSON per dataset, and an overall summary.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseJsonLines, Rho1Error, writeFileAtomic } from "@rho1/io";
import { buildQuestion, type DataRecord, type DatasetName, evalGold } from "./datasets.ts";
import type { Generator } from "./generator.ts";
import { cleanCompletion, extractPrediction, type GraderKind } from "./grade.ts";
import { EVAL_DATA_DIR } from "./paths.ts";
import { GradingPool } from "./pool.ts";
import { buildPrompt, loadPromptSpec } from "./prompts.ts";
import { PyRandom } from "./py-random.ts";

export class EvalDataError extends Rho1Error {
  override name = "EvalDataError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("bad_dataset", message, details);
  }
}

/** Reads `<dataDir>/<dataset>/test.jsonl` (the harness's `load_data`); a bad line names file and line. */
export function loadDataset(dataDir: string, dataset: DatasetName, limit?: number): DataRecord[] {
  const file = join(dataDir, dataset, "test.jsonl");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new EvalDataError(`${file}: cannot read dataset: ${(error as Error).message}`);
  }
  const out: DataRecord[] = [];
  for (const { line, value } of parseJsonLines(text, file)) {
    if (limit !== undefined && out.length >= limit) break;
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new EvalDataError(`${file}:${line}: expected a JSON object, found ${JSON.stringify(value)}`);
    out.push(value as DataRecord);
  }
  return out;
}

/** Python's round(x, 1) (round-half-even on the exact binary value). */
export function pyRound1(x: number): number {
  const q = x * 4;
  if (Number.isInteger(q) && q % 2 !== 0) {
    // an exact tie x.x5 (only .25/.75 are representable): round half to even
    const lo = Math.floor(x * 10) / 10;
    const loDigit = Math.round(Math.abs(lo) * 10) % 10;
    return loDigit % 2 === 0 ? lo : Math.round(x * 10 + 0.5) / 10;
  }
  return Number(x.toFixed(1));
}

/**
 * The records `math_eval.py` evaluates from one dataset: `load_data` (an `idx` added from the file position where
 * missing, sorted by idx), then with `numTestSample` > 0 `random.sample(examples, numTestSample)` on the generator
 * the caller seeded once for all datasets, then the first `limit` (the harness's `--end`).
 */
export function selectRecords(
  dataset: DatasetName,
  records: DataRecord[],
  options: { numTestSample?: number; random?: PyRandom; limit?: number },
): DataRecord[] {
  let examples = records.map((r, i) => (typeof r.idx === "number" ? r : { idx: i, ...r }));
  examples = examples
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) => (a.idx as number) - (b.idx as number) || i - j)
    .map(([r]) => r);
  const n = options.numTestSample ?? -1;
  if (n > 0) {
    if (n > examples.length)
      throw new EvalDataError(
        `${dataset}: --num-test-sample ${n} is larger than the dataset (${examples.length} records)`,
      );
    examples = (options.random ?? new PyRandom(0)).sample(examples, n);
  }
  return options.limit === undefined ? examples : examples.slice(0, options.limit);
}

export interface Sample {
  idx: number;
  question: string;
  gold: string;
  pred: string | null;
  score: boolean;
  completion: string;
  type?: string;
  timeout?: boolean;
}

export interface DatasetMetrics {
  num_samples: number;
  num_scores: number;
  timeout_samples: number;
  empty_samples: number;
  acc: number;
  type_acc?: Record<string, number>;
  grader: GraderKind;
  /** The other grader's accuracy on the same completions, and how many verdicts differ. */
  acc_harness: number;
  acc_strict: number;
  grader_disagreements: number;
  time_use_in_second: number;
}

export interface EvalOptions {
  tasks: DatasetName[];
  /** Folder with `<task>/test.jsonl` and `prompts/<task>.json` (default: the full sets, EVAL_DATA_DIR). */
  dataDir?: string;
  outDir: string;
  generator: Generator;
  /** The first N records of each task (after sampling, like the harness's --end). */
  limit?: number;
  /** The harness's --num_test_sample: a seeded random.sample of N records per task; <= 0 or absent = all. */
  numTestSample?: number;
  /** The harness's --seed (default 0): seeds Python's random once, before the first task. */
  seed?: number;
  batchSize?: number;
  grader?: GraderKind;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface EvalSummary {
  accuracies: Record<string, number>;
  average: number;
  metrics: Record<string, DatasetMetrics>;
  table: string;
}

function accuracy(scores: boolean[]): number {
  if (scores.length === 0) return 0;
  return pyRound1((scores.filter(Boolean).length / scores.length) * 100);
}

/** Runs the evaluation of every task; returns the accuracies and writes `<outDir>/<task>/{samples.jsonl,metrics.json}`. */
export async function evaluate(options: EvalOptions): Promise<EvalSummary> {
  const grader = options.grader ?? "harness";
  const dataDir = options.dataDir ?? EVAL_DATA_DIR;
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const log = options.log ?? (() => {});
  const pool = new GradingPool({ timeoutMs: options.timeoutMs });
  const metricsByTask: Record<string, DatasetMetrics> = {};
  const sampling = (options.numTestSample ?? -1) > 0;
  // One generator for all tasks, as math_eval.py seeds once and samples each dataset in --data_names order.
  const random = new PyRandom(options.seed ?? 0);
  try {
    for (const task of options.tasks) {
      const t0 = performance.now();
      const records = selectRecords(task, loadDataset(dataDir, task, sampling ? undefined : options.limit), {
        numTestSample: options.numTestSample,
        random,
        limit: options.limit,
      });
      if (options.limit !== undefined && records.length < options.limit)
        log(
          `${task}: --limit ${options.limit} exceeds the set's ${records.length} records; evaluating all ${records.length}`,
        );
      const spec = loadPromptSpec(dataDir, task);
      const questions = records.map((r) => buildQuestion(task, r));
      const prompts = questions.map((q) => buildPrompt(spec, q));
      const completions: string[] = [];
      for (let i = 0; i < prompts.length; i += batchSize) {
        const batch = prompts.slice(i, i + batchSize);
        const outs = await options.generator(batch);
        if (outs.length !== batch.length)
          throw new Error(`generator returned ${outs.length} completions for ${batch.length} prompts`);
        completions.push(...outs.map(cleanCompletion));
        log(`${task}: generated ${completions.length}/${prompts.length}`);
      }
      const samples: Sample[] = [];
      const other: boolean[] = [];
      let timeouts = 0;
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as DataRecord;
        const gold = evalGold(task, record);
        const completion = completions[i] as string;
        const otherKind: GraderKind = grader === "harness" ? "strict" : "harness";
        const pred = extractPrediction(task, completion, grader);
        const otherPred = extractPrediction(task, completion, otherKind);
        const verdict = await pool.mathEqual(pred, gold);
        const timedOut = verdict.timedOut;
        if (timedOut) timeouts++;
        // math_equal is deterministic: the same prediction needs no second comparison (the usual case).
        other.push(otherPred === pred ? verdict.correct : (await pool.mathEqual(otherPred, gold)).correct);
        const idx = record.idx as number;
        const sample: Sample = {
          idx,
          question: questions[i] as string,
          gold,
          pred,
          score: verdict.correct,
          completion,
        };
        if (typeof record.type === "string") sample.type = record.type;
        if (timedOut) sample.timeout = true;
        samples.push(sample);
      }
      const scores = samples.map((s) => s.score);
      const metrics: DatasetMetrics = {
        num_samples: samples.length,
        num_scores: scores.length,
        timeout_samples: timeouts,
        empty_samples: samples.filter((s) => s.pred === null || s.pred === "").length,
        acc: accuracy(scores),
        grader,
        acc_harness: accuracy(grader === "harness" ? scores : other),
        acc_strict: accuracy(grader === "strict" ? scores : other),
        grader_disagreements: scores.filter((s, i) => s !== other[i]).length,
        time_use_in_second: Number(((performance.now() - t0) / 1000).toFixed(2)),
      };
      if (samples.some((s) => s.type !== undefined)) {
        const byType = new Map<string, boolean[]>();
        for (const s of samples) {
          const key = s.type ?? "";
          const scoresOfType = byType.get(key);
          if (scoresOfType) scoresOfType.push(s.score);
          else byType.set(key, [s.score]);
        }
        metrics.type_acc = Object.fromEntries(
          [...byType.keys()].sort().map((k) => [k, accuracy(byType.get(k) ?? [])]),
        );
      }
      const dir = join(options.outDir, task);
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(
        join(dir, "samples.jsonl"),
        samples.map((s) => JSON.stringify(s)).join("\n") + (samples.length ? "\n" : ""),
      );
      writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
      metricsByTask[task] = metrics;
      log(
        `${task}: acc ${metrics.acc} (${grader}); harness ${metrics.acc_harness}, strict ${metrics.acc_strict}`,
      );
    }
  } finally {
    pool.close();
  }
  const accuracies = Object.fromEntries(Object.entries(metricsByTask).map(([k, m]) => [k, m.acc]));
  const values = Object.values(accuracies);
  const average = values.length ? pyRound1(values.reduce((a, b) => a + b, 0) / values.length) : 0;
  const table = formatTable(accuracies, average);
  mkdirSync(options.outDir, { recursive: true });
  writeFileAtomic(
    join(options.outDir, "summary.json"),
    `${JSON.stringify({ grader, accuracies, average, metrics: metricsByTask }, null, 2)}\n`,
  );
  writeFileAtomic(join(options.outDir, "summary.md"), `${table}\n`);
  return { accuracies, average, metrics: metricsByTask, table };
}

/** The overall table: one column per task plus the plain-mean AVG column, as in Rho-1 Table 1. */
export function formatTable(accuracies: Record<string, number>, average: number): string {
  const names = [...Object.keys(accuracies), "avg"];
  const cells = [...Object.values(accuracies).map((a) => a.toFixed(1)), average.toFixed(1)];
  const widths = names.map((n, i) => Math.max(n.length, (cells[i] as string).length));
  const row = (xs: string[]) => `| ${xs.map((x, i) => x.padStart(widths[i] as number)).join(" | ")} |`;
  return [row(names), `|${widths.map((w) => "-".repeat(w + 1)).join("-|")}-|`, row(cells)].join("\n");
}
