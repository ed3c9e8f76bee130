/**
 * Grading throughput of @rho1/math-eval (items/s), against its anchor: a Python transcription of the harness's
 * answer pipeline (harness_ref.py: Python `re`, float and str semantics; symbolic checks by sympy parse_expr only,
 * since the pinned sympy 1.12/antlr 4.11/latex2sympy2 stack is not installed). The same run reports how often the
 * two agree on the extracted prediction, the gold and the verdict (a differential check of the port).
 *
 *   bun benchmarks/eval/run.ts [--per-dataset N] [--python python3] [--generate N --max-new-tokens M] [--generate N --max-new-tokens M]
 *
 * Workload: every dataset's records (first N each) with synthetic completions in the styles real models write
 * (right answer after "The answer is", Minerva lines, boxed, units, wrong numbers, MC letters and the "clearly" trap).
 */
import {
  DATASET_NAMES,
  type DataRecord,
  type DatasetName,
  EVAL_DATA_DIR,
  evalGold,
  extractPrediction,
  GradingPool,
  gradeCompletion,
  loadDataset,
  MULTI_CHOICE,
  rawGold,
} from "@rho1/math-eval";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  {
    "per-dataset": { type: "string", default: "200" },
    python: { type: "string", default: "python3" },
    /** Also measure generation tokens/s of `rho1 eval`'s loop on N GSM8K items (real 8-shot prompt). */
    generate: { type: "string" },
    "max-new-tokens": { type: "string", default: "32" },
  },
  {
    usage:
      "Grading throughput (items/s) of @rho1/math-eval on synthetic completions; anchor: a Python transcription of the harness's answer pipeline (harness_ref.py), same run, with agreement rates.",
    describe: {
      "per-dataset": "records per dataset",
      python: "Python interpreter for the anchor",
      generate: "also measure generation tokens/s on N GSM8K items (unset: skip)",
      "max-new-tokens": "new tokens per generated item",
    },
  },
);
const perDataset = Number(values["per-dataset"]);

interface Item {
  dataset: DatasetName;
  record: DataRecord;
  completion: string;
}

function completionsFor(dataset: DatasetName, record: DataRecord, i: number): string[] {
  const gold = rawGold(dataset, record).trim();
  if (MULTI_CHOICE.has(dataset)) {
    const l = gold.toLowerCase();
    return [
      `Reasoning.\nThe answer is (${gold}).`,
      `So the answer is ${l}`,
      "The answer is clearly (A).",
      `The answer is: (${gold})`,
    ];
  }
  const n = Number(gold.replaceAll(",", ""));
  const wrong = Number.isFinite(n) ? String(n + 1 + (i % 3)) : `${gold}+1`;
  return [
    `Some steps here.\nThe answer is ${gold}.`,
    `Work.\nFinal Answer: The final answer is $${gold}$. I hope it is correct.`,
    `Thus $\\boxed{${gold}}$ is it.`,
    `The final answer is ${gold}. I hope it is correct.`,
    `The answer is ${wrong} apples.`,
    `We get ${gold} dollars in total`,
    `The answer is ${Number.isFinite(n) ? n * 100 : gold}%`,
  ];
}

if (values.generate !== undefined)
  await measureGeneration(Number(values.generate), Number(values["max-new-tokens"]));

/** Generation speed of the eval loop with the embedded stories260K model (greedy, stop strings, batched). */
async function measureGeneration(n: number, maxNewTokens: number): Promise<void> {
  const { loadTokenizer } = await import("@rho1/tokenizer");
  const { CausalLM, setupBackend } = await import("@rho1/transformer");
  const { evaluate, modelGenerator } = await import("@rho1/math-eval");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const modelDir = join(import.meta.dir, "../../models/stories260K");
  await setupBackend();
  const [model, tokenizer] = await Promise.all([CausalLM.load(modelDir), loadTokenizer(modelDir)]);
  let tokens = 0;
  let seconds = 0;
  const generator = modelGenerator(model, tokenizer, {
    maxNewTokens,
    onBatch: (k, s) => {
      tokens += k;
      seconds += s;
    },
  });
  const t = performance.now();
  await evaluate({
    tasks: ["gsm8k"],
    dataDir: EVAL_DATA_DIR,
    outDir: mkdtempSync(join(tmpdir(), "rho1-bench-")),
    generator,
    limit: n,
    batchSize: n,
  });
  console.log(
    `generation (stories260K, ${n} GSM8K prompts of ~1,570 tokens, <= ${maxNewTokens} new): ${tokens} new tokens in ${seconds.toFixed(1)} s = ${(tokens / seconds).toFixed(2)} tokens/s (eval wall ${((performance.now() - t) / 1000).toFixed(1)} s, prefill included)`,
  );
  model.dispose();
}

const dataDir = EVAL_DATA_DIR;
const items: Item[] = [];
for (const dataset of DATASET_NAMES) {
  const records = loadDataset(dataDir, dataset, perDataset);
  records.forEach((record, i) => {
    for (const completion of completionsFor(dataset, record, i)) items.push({ dataset, record, completion });
  });
}
console.log(`workload: ${items.length} items from ${dataDir}`);

// ours, synchronous (the per-item work)
let t0 = performance.now();
const ours = items.map((it) => gradeCompletion(it.dataset, it.record, it.completion));
const oursSeconds = (performance.now() - t0) / 1000;
console.log(
  `ours (sync):          ${(items.length / oursSeconds).toFixed(0)} items/s (${oursSeconds.toFixed(2)} s)`,
);

// the strict grader on the same items: how many verdicts it changes, per dataset
const strictDiff = new Map<string, [number, number, number]>();
items.forEach((it, i) => {
  const strict = gradeCompletion(it.dataset, it.record, it.completion, "strict").correct;
  const harness = ours[i]?.correct ?? false;
  const [n, h, st] = strictDiff.get(it.dataset) ?? [0, 0, 0];
  strictDiff.set(it.dataset, [n + 1, h + Number(harness), st + Number(strict)]);
});
console.log(
  `harness vs strict accuracy on this workload: ${[...strictDiff].map(([d, [n, h, st]]) => `${d} ${((100 * h) / n).toFixed(1)}/${((100 * st) / n).toFixed(1)}`).join(", ")}`,
);

// ours, as rho1 eval/grade run it: math_equal in a worker under the 3 s limit
const pool = new GradingPool();
t0 = performance.now();
let poolAgree = 0;
for (let i = 0; i < items.length; i++) {
  const it = items[i] as Item;
  const pred = extractPrediction(it.dataset, it.completion);
  const v = await pool.mathEqual(pred, evalGold(it.dataset, it.record));
  if (v.correct === ours[i]?.correct) poolAgree++;
}
const poolSeconds = (performance.now() - t0) / 1000;
pool.close();
console.log(
  `ours (worker, 3 s):   ${(items.length / poolSeconds).toFixed(0)} items/s (${poolSeconds.toFixed(2)} s), same verdicts ${poolAgree}/${items.length}`,
);

// anchor: the Python transcription
const input = items
  .map((it) => JSON.stringify({ dataset: it.dataset, record: it.record, completion: it.completion }))
  .join("\n");
const proc = Bun.spawnSync([values.python as string, `${import.meta.dir}/harness_ref.py`], {
  stdin: new TextEncoder().encode(input),
});
if (proc.exitCode !== 0) {
  console.log(`anchor failed (${values.python}): ${proc.stderr.toString().slice(-500)}`);
  process.exit(1);
}
const anchor = proc.stdout
  .toString()
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { pred: string | null; gold: string; correct: boolean });
const { seconds: pySeconds } = JSON.parse(proc.stderr.toString().trim().split("\n").at(-1) as string) as {
  seconds: number;
};
console.log(
  `anchor (Python ref):  ${(items.length / pySeconds).toFixed(0)} items/s (${pySeconds.toFixed(2)} s)`,
);

let predAgree = 0;
let goldAgree = 0;
let verdictAgree = 0;
const diffs: string[] = [];
for (let i = 0; i < items.length; i++) {
  const a = ours[i];
  const b = anchor[i];
  if (!a || !b) continue;
  if (a.pred === b.pred) predAgree++;
  if (a.gold === b.gold) goldAgree++;
  if (a.correct === b.correct) verdictAgree++;
  if ((a.pred !== b.pred || a.gold !== b.gold || a.correct !== b.correct) && diffs.length < 12)
    diffs.push(
      `  ${items[i]?.dataset}: ours ${JSON.stringify(a)} | anchor ${JSON.stringify(b)} | ${JSON.stringify(items[i]?.completion).slice(0, 90)}`,
    );
}
const pct = (k: number) => `${((100 * k) / items.length).toFixed(2)}%`;
console.log(
  `agreement with the anchor: pred ${pct(predAgree)}, gold ${pct(goldAgree)}, verdict ${pct(verdictAgree)}`,
);
if (diffs.length) console.log(`first differences:\n${diffs.join("\n")}`);
console.log(`ratio ours(sync)/anchor items/s: ${(pySeconds / oursSeconds).toFixed(2)}x`);
