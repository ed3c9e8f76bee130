#!/usr/bin/env bun
/**
 * `bun run demo`: the whole Rho-1 pipeline on the embedded default (models/stories260K + the shipped clean math
 * text), in minutes on a laptop CPU:
 *   1 corpus     OpenWebMath-schema parquet: clean GSM8K/MATH text wrapped in web junk, + a held-out clean set
 *   2 reference  the base model trained (plain causal LM) on a small clean subset
 *   3 score      the corpus scored with the reference model (what `rho1 score` does)
 *   4 train      the base trained twice on the same sequences, seed and schedule: CLM, and SLM at ratio 0.6
 *   5 evaluate   held-out loss on clean target text over training; `rho1 eval` on a few GSM8K items
 *   6 export     the SLM model as a Hugging Face folder
 *   7 report     report.html: summary table, loss curves, token heat-map
 * A second run reuses every stage whose inputs are unchanged (`--fresh` redoes all).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { EVAL_DATA_DIR } from "@rho1/math-eval";
import { ScoreStore, scoreCorpus, writeOwmParquet } from "@rho1/reference-scorer";
import { type Chart, reportHtml, type Stage, writeHtml } from "@rho1/report";
import { loadTokenizer } from "@rho1/tokenizer";
import { checkpointName, meanLoss, packText, sequenceLosses, train } from "@rho1/train";
import { CausalLM, tf } from "@rho1/transformer";
import { main as rho1 } from "rho1";
import { fastBackend } from "./lib/backend.ts";
import { readCleanJsonl, textJsonl } from "./lib/clean-text.ts";
import { parseScriptArgs, usageError } from "./lib/cli.ts";
import { selectionHeatmap } from "./lib/heatmap.ts";
import { type RunMetrics, readMetrics, smooth, tokensToReach } from "./lib/metrics.ts";
import { buildNoisyCorpus } from "./lib/noisy-corpus.ts";
import { Pipeline } from "./lib/stages.ts";

const ROOT = resolve(import.meta.dir, "..");
const BASE = join(ROOT, "models/stories260K");
const CLEAN = [
  join(ROOT, "data/corpus/clean/gsm8k_train.sample.jsonl"),
  join(ROOT, "data/corpus/clean/math_train.sample.jsonl"),
];

const USAGE = `usage: bun run demo [-- options]

  --out DIR        output folder (default runs/demo)
  --steps N        optimizer steps of each continued-pretraining run (default 240)
  --seed N         corpus and data-order seed (default 1)
  --ratio R        SLM selection ratio (default 0.6)
  --fresh          redo every stage instead of reusing finished ones
  --help`;

const fail = (message: string) => usageError("demo", USAGE, message);
function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name}: expected a positive integer, found ${text}`);
  return n;
}

const values = parseScriptArgs("demo", USAGE, {
  out: { type: "string" },
  steps: { type: "string" },
  seed: { type: "string" },
  ratio: { type: "string" },
  fresh: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
});

const out = resolve(values.out ?? join(ROOT, "runs/demo"));
const steps = positiveInt("steps", values.steps, 240);
const seed = positiveInt("seed", values.seed, 1);
const ratio = values.ratio === undefined ? 0.6 : Number(values.ratio);
if (!(ratio > 0 && ratio < 1)) fail(`--ratio: expected a number in (0, 1), found ${values.ratio}`);

// One token budget for both runs: steps × batch × seqLen. The reference model sees about half of that, clean.
const seqLen = 128;
const batchSize = 8;
const budget = steps * batchSize * seqLen;
const refSteps = Math.max(20, Math.round(steps / 2));
const saveEvery = Math.max(1, Math.round(steps / 6));
// The corpus rows average ~950 tokens at 50% junk: enough rows for one pass over the budget, no more to score.
const corpusDocs = Math.ceil((budget * 1.1) / 900);
const schedule = { lr: 2e-3, minLr: 2e-4, warmup: Math.round(steps / 20), weightDecay: 0.1, clip: 1 };

const paths = {
  corpus: join(out, "corpus"),
  parquet: join(out, "corpus/train.parquet"),
  heldOut: join(out, "corpus/heldout.jsonl"),
  refClean: join(out, "corpus/reference-clean.jsonl"),
  refRun: join(out, "reference"),
  refModel: join(out, "reference", checkpointName(refSteps)),
  scores: join(out, "scores"),
  clm: join(out, "clm"),
  slm: join(out, "slm"),
  evalJson: join(out, "eval/heldout.json"),
  mathEval: join(out, "eval/math"),
  model: join(out, "model-slm"),
  report: join(out, "report.html"),
};
const ckpt = (run: string, step: number) => join(run, checkpointName(step));

const say = (line: string) => process.stderr.write(`${line}\n`);
mkdirSync(out, { recursive: true });
const t0 = performance.now();
say(
  `rho1 demo → ${relative(process.cwd(), out) || "."}: ${steps} steps × ${batchSize} × ${seqLen} tokens per run, ` +
    `SLM ratio ${ratio}, seed ${seed}`,
);
await fastBackend(); // prints its choice, e.g. "cpu + tfjs-native kernels"
const pipeline = new Pipeline({ workDir: out, backend: tf.getBackend(), fresh: values.fresh, log: say });

const writeJsonl = (path: string, texts: string[]) => writeFileSync(path, textJsonl(texts));

// 1. Corpus.
await pipeline.stage(
  "1 corpus",
  {
    options: { seed, corpusDocs, v: 1 },
    inputs: CLEAN,
    outputs: [paths.parquet, paths.heldOut, paths.refClean],
  },
  async () => {
    const clean = CLEAN.flatMap((p) => readCleanJsonl(p));
    const corpus = buildNoisyCorpus({
      clean,
      seed,
      junkFraction: 0.5,
      docs: corpusDocs,
      heldOutDocs: 60,
      refDocs: 500,
    });
    mkdirSync(paths.corpus, { recursive: true });
    const bytes = await writeOwmParquet(corpus.train, paths.parquet, { rowGroupSize: 100 });
    writeJsonl(paths.heldOut, corpus.heldOut);
    writeJsonl(paths.refClean, corpus.refClean);
    say(
      `  ${corpus.train.length} noisy rows (${(bytes / 1e6).toFixed(1)} MB parquet), ${corpus.heldOut.length} held-out and ` +
        `${corpus.refClean.length} reference documents of ${clean.length} clean ones`,
    );
  },
);

// 2. Reference model: the base trained on clean target text only.
await pipeline.stage(
  "2 reference",
  {
    options: { refSteps, batchSize, seqLen, seed, schedule },
    inputs: [BASE, paths.refClean],
    outputs: [paths.refModel],
  },
  async () => {
    rmSync(paths.refRun, { recursive: true, force: true });
    await train({
      modelDir: BASE,
      data: [paths.refClean],
      outDir: paths.refRun,
      seqLen,
      batchSize,
      steps: refSteps,
      seed,
      ...schedule,
      warmup: Math.round(refSteps / 20),
    });
  },
);

// 3. Score the corpus with the reference model.
await pipeline.stage(
  "3 score",
  {
    options: { seqLen },
    inputs: [paths.refModel, paths.parquet],
    outputs: [join(paths.scores, "manifest.json")],
  },
  async () => {
    rmSync(paths.scores, { recursive: true, force: true });
    const manifest = await scoreCorpus({
      modelDir: paths.refModel,
      data: [paths.parquet],
      outDir: paths.scores,
      seqLen,
      batchSize: 16,
    });
    say(`  ${manifest.counts.sequences} sequences of ${seqLen} tokens scored`);
  },
);

// 4. Continued pretraining: the same packed sequences in the same order; only the objective differs.
const runs = [
  { name: "CLM", dir: paths.clm, ratio: 1 },
  { name: "SLM", dir: paths.slm, ratio },
];
for (const run of runs) {
  await pipeline.stage(
    `4 train ${run.name}`,
    {
      options: { steps, batchSize, seed, schedule, ratio: run.ratio, saveEvery },
      inputs: [BASE, paths.scores, paths.parquet],
      outputs: [ckpt(run.dir, steps), join(run.dir, "metrics.jsonl")],
    },
    async () => {
      rmSync(run.dir, { recursive: true, force: true });
      const summary = await train({
        modelDir: BASE,
        data: [paths.parquet],
        refScores: paths.scores,
        selectRatio: run.ratio,
        outDir: run.dir,
        batchSize,
        steps,
        seed,
        saveEvery,
        ...schedule,
      });
      say(
        `  ${summary.tokens} tokens, ${summary.selectedTokens} trained on, ${Math.round(summary.tokensPerSecond)} tokens/s`,
      );
    },
  );
}

// 5a. Held-out loss of the clean target text at every checkpoint of both runs.
interface Point {
  step: number;
  tokens: number;
  selectedTokens: number;
  loss: number;
}
interface HeldOut {
  heldOutTokens: number;
  base: number;
  reference: number;
  runs: Record<string, Point[]>;
}
const checkpointSteps = Array.from({ length: Math.ceil(steps / saveEvery) }, (_, i) =>
  Math.min(steps, (i + 1) * saveEvery),
);
await pipeline.stage(
  "5a held-out loss",
  {
    options: { checkpointSteps },
    inputs: [paths.heldOut, paths.refModel, ...runs.map((r) => ckpt(r.dir, steps))],
    outputs: [paths.evalJson],
  },
  async () => {
    const tokenizer = await loadTokenizer(BASE);
    const heldOut = await packText([paths.heldOut], tokenizer, seqLen);
    const lossOf = async (dir: string) => {
      const model = await CausalLM.load(dir);
      try {
        return await meanLoss(model, heldOut);
      } finally {
        model.dispose();
      }
    };
    const base = await lossOf(BASE);
    const result: HeldOut = {
      heldOutTokens: base.tokens,
      base: base.loss,
      reference: (await lossOf(paths.refModel)).loss,
      runs: {},
    };
    say(
      `  base ${base.loss.toFixed(4)}, reference ${result.reference.toFixed(4)} (${base.tokens} held-out tokens)`,
    );
    for (const run of runs) {
      const metrics = readMetrics(join(run.dir, "metrics.jsonl"));
      const points: Point[] = [{ step: 0, tokens: 0, selectedTokens: 0, loss: base.loss }];
      for (const step of checkpointSteps) {
        const m = metrics[step - 1] as RunMetrics;
        const { loss } = await lossOf(ckpt(run.dir, step));
        points.push({ step, tokens: m.tokens, selectedTokens: m.selected_tokens, loss });
        say(`  ${run.name} step ${step}: held-out loss ${loss.toFixed(4)}`);
      }
      result.runs[run.name] = points;
    }
    mkdirSync(join(out, "eval"), { recursive: true });
    writeFileSync(paths.evalJson, `${JSON.stringify(result, null, 2)}\n`);
  },
);

// 5b. `rho1 eval` (the Rho-1 math harness) on a few GSM8K items: the whole path, not a meaningful accuracy. The
// 8-shot prompts (~1,500 tokens here) exceed stories260K's 512 positions, so, as vLLM does, every completion is empty.
const evalArgs = ["--tasks", "gsm8k", "--limit", "4", "--batch-size", "4", "--max-new-tokens", "32"];
await pipeline.stage(
  "5b rho1 eval",
  {
    options: { evalArgs },
    inputs: [
      join(EVAL_DATA_DIR, "gsm8k/test.jsonl"),
      join(EVAL_DATA_DIR, "prompts/gsm8k.json"),
      ...runs.map((r) => ckpt(r.dir, steps)),
    ],
    outputs: runs.map((r) => join(paths.mathEval, r.name, "summary.json")),
  },
  async () => {
    for (const run of runs) {
      const dir = join(paths.mathEval, run.name);
      rmSync(dir, { recursive: true, force: true });
      say(`  rho1 eval --model ${relative(process.cwd(), ckpt(run.dir, steps))} ${evalArgs.join(" ")}`);
      const code = await rho1(["eval", "--model", ckpt(run.dir, steps), ...evalArgs, "--out", dir]);
      if (code !== 0) throw new Error(`rho1 eval exited with ${code}`);
    }
  },
);

// 6. Export the SLM model as a Hugging Face folder (float32 weights, config, tokenizer).
await pipeline.stage(
  "6 export",
  { inputs: [ckpt(paths.slm, steps)], outputs: [join(paths.model, "model.safetensors")] },
  async () => {
    rmSync(paths.model, { recursive: true, force: true });
    const model = await CausalLM.load(ckpt(paths.slm, steps));
    try {
      await model.save(paths.model, { dtype: "F32", tokenizerDir: BASE });
    } finally {
      model.dispose();
    }
  },
);

// 7. The report (always rebuilt: it is cheap and shows this run's stage times).
say("[7 report] writing…");
const held = JSON.parse(readFileSync(paths.evalJson, "utf8")) as HeldOut;
const metrics = Object.fromEntries(runs.map((r) => [r.name, readMetrics(join(r.dir, "metrics.jsonl"))]));
const last = (name: string) => held.runs[name][held.runs[name].length - 1];
const accuracy = (name: string) =>
  (
    JSON.parse(readFileSync(join(paths.mathEval, name, "summary.json"), "utf8")) as {
      accuracies?: Record<string, number>;
    }
  ).accuracies?.gsm8k ?? null;
const refTokens = readMetrics(join(paths.refRun, "metrics.jsonl")).at(-1)?.tokens ?? Number.NaN;
const stageSeconds = (name: string) => pipeline.records.find((r) => r.name === name)?.seconds ?? Number.NaN;

const clmFinal = last("CLM");
const slmFinal = last("SLM");
// Tokens SLM needed to reach CLM's final held-out loss (linear interpolation between checkpoints).
const reach = tokensToReach(held.runs.SLM, clmFinal.loss, (p) => p.loss);

// Heat-map: a few scored rows, coloured by excess loss = loss of the CLM-trained model − reference loss: what a
// model adapted to the noisy corpus still gets wrong that the clean reference gets right.
const store = ScoreStore.open(paths.scores);
const tokenizer = await loadTokenizer(BASE);
const shown = [1, 2, 3, 4].filter((i) => i < store.numSequences);
const rows = shown.map((i) => ({ title: `training sequence ${i}`, ...store.sequence(i) }));
const clmModel = await CausalLM.load(ckpt(paths.clm, steps));
const clmLoss = await sequenceLosses(
  clmModel,
  rows.map((r) => Int32Array.from(r.ids)),
);
clmModel.dispose();
const docs = selectionHeatmap(rows, clmLoss, (id) => tokenizer.idToToken(id) ?? `<${id}>`, ratio);

const step = (m: RunMetrics[], pick: (x: RunMetrics) => number | null) => {
  const ys = smooth(m.map(pick), Math.max(1, Math.round(steps / 25)));
  return m.map((x, i) => [x.step, ys[i]] as [number, number]);
};
const curves: Chart[] = [
  {
    title: "Held-out loss on clean target text",
    xLabel: "training tokens seen",
    yLabel: "mean token CE (nats)",
    series: runs.map((r) => ({
      name: r.name === "SLM" ? `SLM (ratio ${ratio})` : "CLM",
      points: held.runs[r.name].map((p) => [p.tokens, p.loss] as [number, number]),
    })),
    caption:
      "Both runs read the same sequences in the same order with the same schedule; SLM back-propagates only the selected tokens.",
  },
  {
    title: "Training loss: all, selected and unselected tokens",
    xLabel: "step",
    yLabel: "batch mean CE (smoothed)",
    series: [
      { name: "CLM all tokens", points: step(metrics.CLM, (x) => x.loss) },
      { name: "SLM all tokens", points: step(metrics.SLM, (x) => x.loss) },
      { name: "SLM selected", points: step(metrics.SLM, (x) => x.loss_selected) },
      { name: "SLM unselected", points: step(metrics.SLM, (x) => x.loss_unselected), dashed: true },
    ],
    caption:
      "Under SLM the selected tokens' loss falls while the unselected (mostly web junk) tokens' loss stays high.",
  },
];
const stages: Stage[] = pipeline.records.map((r) => ({
  name: r.name,
  seconds: r.seconds,
  note: r.reused ? "reused from a previous run" : undefined,
}));
const html = reportHtml({
  title: "rho1 demo: Selective Language Modeling vs causal LM",
  subtitle: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · base models/stories260K · ${steps} steps × ${batchSize} × ${seqLen} tokens · ratio ${ratio} · seed ${seed}`,
  intro:
    "The base model (a tiny pretrained Llama) continues pretraining on a noisy web-style math corpus twice: once on " +
    "every token (CLM), once only on the tokens whose loss exceeds a reference model's loss the most (SLM, Rho-1). The " +
    "reference model is the base trained briefly on clean math text. The held-out loss measures the clean target text.",
  highlights: [
    { label: "held-out loss, CLM", value: clmFinal.loss },
    {
      label: "held-out loss, SLM",
      value: slmFinal.loss,
      sub: `${(slmFinal.loss - clmFinal.loss).toFixed(3)} vs CLM`,
    },
    {
      label: "SLM reached CLM's final loss after",
      value: reach === null ? "not reached" : `${Math.round((100 * reach) / clmFinal.tokens)}%`,
      sub: "of the tokens",
    },
  ],
  summary: {
    columns: ["", "base", "reference", "CLM", "SLM"],
    rows: [
      ["held-out loss (nats/token)", held.base, held.reference, clmFinal.loss, slmFinal.loss],
      ["tokens seen", 0, refTokens, clmFinal.tokens, slmFinal.tokens],
      ["tokens trained on (selected)", 0, refTokens, clmFinal.selectedTokens, slmFinal.selectedTokens],
      [
        "training time",
        null,
        `${stageSeconds("2 reference").toFixed(0)} s`,
        `${stageSeconds("4 train CLM").toFixed(0)} s`,
        `${stageSeconds("4 train SLM").toFixed(0)} s`,
      ],
      [
        `GSM8K accuracy (${evalArgs[3]} items; 8-shot prompts exceed the 512-token context: empty completions)`,
        null,
        null,
        accuracy("CLM"),
        accuracy("SLM"),
      ],
    ],
    // No "best" marks: the reference (trained on clean text) would win the loss row, which is not the comparison.
  },
  stages,
  curves,
  heatmap: {
    docs,
    intro:
      "Training sequences coloured by excess loss (loss of the CLM-trained model − reference loss; red: the reference " +
      "predicts the token much better, blue: worse). Marked: the " +
      `${Math.round(ratio * 100)}% of tokens SLM would train on, ranked over these sequences.`,
  },
  notes: [
    `Held-out set: ${held.heldOutTokens} tokens of clean GSM8K/MATH text no run trained on.`,
    "The GSM8K accuracy of a 260K-parameter model is 0: it is here to show that the exported model runs through the math harness.",
    `Files: corpus ${relative(out, paths.parquet)}, scores ${relative(out, paths.scores)}, runs ${relative(out, paths.clm)} and ${relative(out, paths.slm)} (metrics.jsonl, checkpoints), model ${relative(out, paths.model)}.`,
  ],
});
await writeHtml(paths.report, html);
const total = (performance.now() - t0) / 1000;

const rel = (p: string) => relative(process.cwd(), p) || ".";
console.log("");
console.log("stage                 seconds");
for (const r of pipeline.records)
  console.log(`${r.name.padEnd(20)} ${r.seconds.toFixed(1).padStart(8)}${r.reused ? "  (reused)" : ""}`);
console.log(`${"total (this run)".padEnd(20)} ${total.toFixed(1).padStart(8)}`);
console.log("");
console.log(`held-out loss: base ${held.base.toFixed(4)}, reference ${held.reference.toFixed(4)}`);
console.log(
  `               CLM ${clmFinal.loss.toFixed(4)}, SLM ${slmFinal.loss.toFixed(4)} (${(slmFinal.loss - clmFinal.loss).toFixed(4)})`,
);
console.log(
  `tokens: ${clmFinal.tokens} seen by each run; SLM trained on ${slmFinal.selectedTokens}` +
    (reach === null
      ? "; SLM did not reach CLM's final loss"
      : `; SLM reached CLM's final loss after ${Math.round(reach)} tokens (${Math.round((100 * reach) / clmFinal.tokens)}%)`),
);
console.log(`report: ${rel(paths.report)}`);
console.log(`model:  ${rel(paths.model)}`);
if (!existsSync(paths.report)) process.exitCode = 1;
