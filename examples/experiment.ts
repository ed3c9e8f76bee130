#!/usr/bin/env bun
/**
 * `bun run experiment`: a small-scale reproduction of Rho-1's claims about Selective Language Modeling.
 *   - SLM vs CLM at equal training tokens: held-out loss on clean target text over training (paper Fig. 6 analogue)
 *   - selection-ratio sweep 40/50/60/70/80/100% (Fig. 9 analogue; 100% = CLM)
 *   - loss of selected vs unselected tokens during training (Fig. 6/7)
 *   - token categories H→H, L→H, H→L, L→L over checkpoints (Fig. 3, App. B.1), from `rho1 analyze`
 * Every run continues pretraining the same base model on the same noisy corpus, in the same order, with the same
 * schedule and seed; only the selection ratio differs. Writes results JSON, SVG plots and docs/reproduction.md.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { readTextDocuments, ScoreStore, scoreCorpus, writeOwmParquet } from "@rho1/reference-scorer";
import { lossCurvesSvg, type Series, writeSvg } from "@rho1/report";
import { CATEGORIES, selectTokens, type TokenCategory } from "@rho1/selective-loss";
import { loadTokenizer } from "@rho1/tokenizer";
import { checkpointName, meanLoss, packText, Sampler, sequenceLosses, train } from "@rho1/train";
import { CausalLM, tf } from "@rho1/transformer";
import { fastBackend } from "./lib/backend.ts";
import { readCleanJsonl, textJsonl } from "./lib/clean-text.ts";
import { parseScriptArgs, usageError } from "./lib/cli.ts";
import { readMetrics, smooth, tokensToReach } from "./lib/metrics.ts";
import { buildNoisyCorpus } from "./lib/noisy-corpus.ts";
import { buildProbe } from "./lib/probe.ts";
import { Pipeline } from "./lib/stages.ts";

const ROOT = resolve(import.meta.dir, "..");
const BASE = join(ROOT, "models/stories260K");
const REPO_CLEAN = ["gsm8k_train.sample.jsonl", "math_train.sample.jsonl"].map((f) =>
  join(ROOT, "data/corpus/clean", f),
);
/** The full training sets `--clean-dir` names (the repo ships a sample of each). */
const FULL_CLEAN = ["gsm8k_train.jsonl", "math_train.jsonl"];

interface Scale {
  steps: number;
  batchSize: number;
  seqLen: number;
  refSteps: number;
  refDocs: number;
  heldOutDocs: number;
  probeRows: number;
  checkpoints: number;
  lr: number;
}
const SCALES: Record<string, Scale> = {
  tiny: {
    steps: 300,
    batchSize: 8,
    seqLen: 128,
    refSteps: 150,
    refDocs: 500,
    heldOutDocs: 40,
    probeRows: 16,
    checkpoints: 6,
    lr: 2e-3,
  },
  small: {
    steps: 600,
    batchSize: 16,
    seqLen: 128,
    refSteps: 300,
    refDocs: 1000,
    heldOutDocs: 100,
    probeRows: 32,
    checkpoints: 10,
    lr: 2e-3,
  },
};

const USAGE = `usage: bun run experiment [-- options]

  --scale S        tiny (300 steps of 8 × 128; ~3-10 min on 2 cores) or
                   small (600 steps of 16 × 128; ~6 min per 3 ratios)
  --clean-dir DIR  folder with the full GSM8K and MATH training sets (gsm8k_train.jsonl, math_train.jsonl,
                   15k documents) to build the corpus from (default: the shipped 1,800-document sample)
  --ratios LIST    selection ratios (default 0.4,0.5,0.6,0.7,0.8,1)
  --steps N        override the scale's optimizer steps per run (the reference trains steps/2)
  --seed N         corpus and data-order seed (default 1)
  --out DIR        work folder (default runs/experiment/<scale>, or <scale>-seed<N> for seeds other than 1)
  --docs DIR       where reproduction.md, plots and results JSON go (default docs)
  --fresh          redo every stage
  --help`;

const DEFAULT_RATIOS = "0.4,0.5,0.6,0.7,0.8,1";
const fail = (message: string) => usageError("experiment", USAGE, message);
const values = parseScriptArgs("experiment", USAGE, {
  scale: { type: "string", default: "tiny" },
  ratios: { type: "string", default: DEFAULT_RATIOS },
  steps: { type: "string" },
  seed: { type: "string", default: "1" },
  "clean-dir": { type: "string" },
  out: { type: "string" },
  docs: { type: "string" },
  fresh: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
});
const scaleName = values.scale as string;
const preset = SCALES[scaleName];
if (!preset) fail(`--scale: expected tiny or small, found ${scaleName}`);
const scale: Scale = { ...preset };
if (values.steps !== undefined) {
  scale.steps = Number(values.steps);
  if (!Number.isInteger(scale.steps) || scale.steps < 2)
    fail(`--steps: expected an integer >= 2, found ${values.steps}`);
  scale.refSteps = Math.max(2, Math.round(scale.steps / 2));
}
const ratios = (values.ratios as string).split(",").map(Number);
if (ratios.some((r) => !(r > 0 && r <= 1)))
  fail(`--ratios: expected numbers in (0, 1], found ${values.ratios}`);
if (!ratios.includes(1)) ratios.push(1); // CLM is the baseline of every comparison
ratios.sort((a, b) => a - b);
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0)
  fail(`--seed: expected a non-negative integer, found ${values.seed}`);
const MAIN = ratios.includes(0.6) ? 0.6 : ratios[0];

// Seed 1 is the headline run (docs/reproduction.md); other seeds go beside it (docs/reproduction/<scale>-seed<N>.md).
const runName = seed === 1 ? scaleName : `${scaleName}-seed${seed}`;
const out = resolve(values.out ?? join(ROOT, "runs/experiment", runName));
const docsDir = resolve(values.docs ?? join(ROOT, "docs"));
const cleanDir = values["clean-dir"] as string | undefined;
const cleanFiles = cleanDir ? FULL_CLEAN.map((f) => resolve(cleanDir, f)) : REPO_CLEAN;
for (const f of cleanFiles) if (!existsSync(f)) fail(`--clean-dir: expected ${f}, found no such file`);
/** A corpus file as the report names it: repo-relative when shipped, else its name (no machine's paths). */
const cleanName = (f: string) => (f.startsWith(ROOT) ? relative(ROOT, f) : basename(f));
const budget = scale.steps * scale.batchSize * scale.seqLen;
const corpusDocs = Math.ceil((budget * 1.1) / 900);
const saveEvery = Math.max(1, Math.round(scale.steps / scale.checkpoints));
const checkpointSteps = Array.from({ length: Math.ceil(scale.steps / saveEvery) }, (_, i) =>
  Math.min(scale.steps, (i + 1) * saveEvery),
);
const schedule = {
  lr: scale.lr,
  minLr: scale.lr / 10,
  warmup: Math.round(scale.steps / 20),
  weightDecay: 0.1,
  clip: 1,
};

const p = {
  parquet: join(out, "corpus/train.parquet"),
  probe: join(out, "corpus/probe.parquet"),
  heldOut: join(out, "corpus/heldout.jsonl"),
  refClean: join(out, "corpus/reference-clean.jsonl"),
  refRun: join(out, "reference"),
  refModel: join(out, "reference", checkpointName(scale.refSteps)),
  scores: join(out, "scores"),
  probeScores: join(out, "probe-scores"),
  analysis: join(out, "analysis"),
  run: (r: number) => join(out, `ratio-${Math.round(r * 100)}`),
  measure: join(out, "measurements.json"),
};
const ckpt = (r: number, step: number) => join(p.run(r), checkpointName(step));
const label = (r: number) => (r === 1 ? "CLM (100%)" : `SLM ${Math.round(r * 100)}%`);
const say = (line: string) => process.stderr.write(`${line}\n`);

mkdirSync(join(out, "corpus"), { recursive: true });
const started = performance.now();
const backend = await fastBackend();
const pipeline = new Pipeline({ workDir: out, backend: tf.getBackend(), fresh: values.fresh, log: say });
say(
  `rho1 experiment (${scaleName}) → ${relative(process.cwd(), out)}: ratios ${ratios.join(", ")}, ${scale.steps} steps × ${scale.batchSize} × ${scale.seqLen}, seed ${seed}`,
);

const jsonl = (path: string, texts: string[]) => writeFileSync(path, textJsonl(texts));

await pipeline.stage(
  "corpus",
  {
    options: { seed, corpusDocs, scale, probeRowGroup: 1 },
    inputs: cleanFiles,
    outputs: [p.parquet, p.probe, p.heldOut, p.refClean],
  },
  async () => {
    const clean = cleanFiles.flatMap((f) => readCleanJsonl(f));
    const c = buildNoisyCorpus({
      clean,
      seed,
      junkFraction: 0.5,
      docs: corpusDocs + scale.probeRows,
      heldOutDocs: scale.heldOutDocs,
      refDocs: scale.refDocs,
    });
    // The probe rows are noisy like the training rows but never trained on: the token-level diagnostics run on them.
    // One document per row group: the scorer packs each row group on its own, so the probe's score store holds
    // exactly the rows of examples/lib/probe.ts ([BOS] doc [EOS], the last row padded) and `rho1 analyze` sees the
    // same tokens as the clean/junk measurements.
    await writeOwmParquet(c.train.slice(0, corpusDocs), p.parquet, { rowGroupSize: 100 });
    await writeOwmParquet(c.train.slice(corpusDocs), p.probe, { rowGroupSize: 1 });
    jsonl(p.heldOut, c.heldOut);
    jsonl(p.refClean, c.refClean);
    say(
      `  ${corpusDocs} training rows, ${scale.probeRows} probe rows, ${c.heldOut.length} held-out, ${c.refClean.length} reference documents`,
    );
  },
);

await pipeline.stage(
  "reference",
  { options: { scale, seed, schedule }, inputs: [BASE, p.refClean], outputs: [p.refModel] },
  async () => {
    rmSync(p.refRun, { recursive: true, force: true });
    await train({
      modelDir: BASE,
      data: [p.refClean],
      outDir: p.refRun,
      seqLen: scale.seqLen,
      batchSize: scale.batchSize,
      steps: scale.refSteps,
      seed,
      ...schedule,
      warmup: Math.round(scale.refSteps / 20),
    });
  },
);

for (const [name, data, dir] of [
  ["score", p.parquet, p.scores],
  ["score probe", p.probe, p.probeScores],
] as const) {
  await pipeline.stage(
    name,
    { options: { seqLen: scale.seqLen }, inputs: [p.refModel, data], outputs: [join(dir, "manifest.json")] },
    async () => {
      rmSync(dir, { recursive: true, force: true });
      await scoreCorpus({
        modelDir: p.refModel,
        data: [data],
        outDir: dir,
        seqLen: scale.seqLen,
        batchSize: 16,
      });
    },
  );
}

for (const ratio of ratios) {
  await pipeline.stage(
    `train ${label(ratio)}`,
    {
      options: { scale, seed, schedule, ratio, saveEvery },
      inputs: [BASE, p.scores, p.parquet],
      outputs: [ckpt(ratio, scale.steps)],
    },
    async () => {
      rmSync(p.run(ratio), { recursive: true, force: true });
      await train({
        modelDir: BASE,
        data: [p.parquet],
        refScores: p.scores,
        selectRatio: ratio,
        outDir: p.run(ratio),
        batchSize: scale.batchSize,
        steps: scale.steps,
        seed,
        saveEvery,
        ...schedule,
      });
    },
  );
}

// Measurements at step 0 (the base) and every checkpoint: held-out loss of every run; on the probe (noisy rows never
// trained on, tokens labelled clean or junk), for CLM and the main SLM run: loss of clean and of junk tokens, and the
// selection that run's model would make there (top ratio of excess loss over the probe) — its loss and how much of
// it is clean text.
interface Checkpoint {
  step: number;
  tokens: number;
  selectedTokens: number;
  heldOut: number;
  probeClean?: number;
  probeJunk?: number;
  probeSelected?: number;
  probeUnselected?: number;
  /** Share of the selected probe tokens that are clean text. */
  selectedClean?: number;
}
interface Measurements {
  heldOutTokens: number;
  probeTokens: number;
  probeJunkShare: number;
  baseHeldOut: number;
  referenceHeldOut: number;
  runs: Record<string, Checkpoint[]>;
}
await pipeline.stage(
  "measure",
  {
    options: { ratios, checkpointSteps, MAIN, v: 5 },
    inputs: [p.heldOut, p.probe, p.refModel, ...ratios.map((r) => ckpt(r, scale.steps))],
    outputs: [p.measure],
  },
  async () => {
    const tokenizer = await loadTokenizer(BASE);
    const heldOut = await packText([p.heldOut], tokenizer, scale.seqLen);
    const probe = await buildProbe(p.probe, tokenizer, scale.seqLen);
    const { valid, junk } = probe;
    const T = scale.seqLen - 1;
    const B = probe.rows.length;
    const probeLoss = async (model: CausalLM) => {
      const flat = new Float32Array(B * T);
      for (const [b, row] of (await sequenceLosses(model, probe.rows)).entries()) flat.set(row, b * T);
      return flat;
    };
    const withModel = async <R>(dir: string, f: (m: CausalLM) => Promise<R>): Promise<R> => {
      const m = await CausalLM.load(dir);
      try {
        return await f(m);
      } finally {
        m.dispose();
      }
    };
    const ref = await withModel(p.refModel, async (m) => ({
      held: (await meanLoss(m, heldOut)).loss,
      probe: await probeLoss(m),
    }));
    const mean = (loss: Float32Array, keep: (i: number) => boolean) => {
      let sum = 0;
      let n = 0;
      for (let i = 0; i < loss.length; i++) {
        if (valid[i] && keep(i)) {
          sum += loss[i];
          n++;
        }
      }
      return n ? sum / n : Number.NaN;
    };
    const probeStats = (loss: Float32Array) => {
      const excess = loss.map((x, i) => x - ref.probe[i]);
      const sel = selectTokens(excess, valid, B, T, MAIN, "batch");
      let selected = 0;
      let clean = 0;
      for (let i = 0; i < sel.length; i++) {
        if (!sel[i]) continue;
        selected++;
        if (!junk[i]) clean++;
      }
      return {
        probeClean: mean(loss, (i) => !junk[i]),
        probeJunk: mean(loss, (i) => junk[i] === 1),
        probeSelected: mean(loss, (i) => sel[i] === 1),
        probeUnselected: mean(loss, (i) => sel[i] === 0),
        selectedClean: clean / selected,
      };
    };
    const base = await withModel(BASE, async (m) => ({
      held: await meanLoss(m, heldOut),
      probe: await probeLoss(m),
    }));
    const probeTokens = valid.reduce((a, v) => a + v, 0);
    const result: Measurements = {
      heldOutTokens: base.held.tokens,
      probeTokens,
      probeJunkShare: junk.reduce((a, v, i) => a + v * valid[i], 0) / probeTokens,
      baseHeldOut: base.held.loss,
      referenceHeldOut: ref.held,
      runs: {},
    };
    say(`  base held-out ${base.held.loss.toFixed(4)}, reference ${ref.held.toFixed(4)}`);
    for (const ratio of ratios) {
      const metrics = readMetrics(join(p.run(ratio), "metrics.jsonl"));
      const tracked = ratio === 1 || ratio === MAIN;
      const points: Checkpoint[] = [
        {
          step: 0,
          tokens: 0,
          selectedTokens: 0,
          heldOut: base.held.loss,
          ...(tracked ? probeStats(base.probe) : {}),
        },
      ];
      for (const step of checkpointSteps) {
        const m = metrics[step - 1];
        const point = await withModel(ckpt(ratio, step), async (model) => {
          const pt: Checkpoint = {
            step,
            tokens: m.tokens,
            selectedTokens: m.selected_tokens,
            heldOut: (await meanLoss(model, heldOut)).loss,
          };
          if (tracked) Object.assign(pt, probeStats(await probeLoss(model)));
          return pt;
        });
        points.push(point);
        say(`  ${label(ratio)} step ${step}: held-out ${point.heldOut.toFixed(4)}`);
      }
      result.runs[String(ratio)] = points;
    }
    writeFileSync(p.measure, `${JSON.stringify(result, null, 2)}\n`);
  },
);

/** Runs a `rho1` command (packages/cli) as a user would, echoing it; a failure stops the experiment. */
function rho1(args: string[]): void {
  const shown = args.map((x) =>
    x
      .split(",")
      .map((y) => relative(process.cwd(), y) || y)
      .join(","),
  );
  say(`  rho1 ${shown.join(" ")}`);
  const run = Bun.spawnSync([process.execPath, join(ROOT, "packages/cli/src/main.ts"), ...args], {
    stdout: "ignore",
    stderr: "inherit",
  });
  if (run.exitCode !== 0) throw new Error(`rho1 ${args[0]} exited with ${run.exitCode}`);
}

// Token categories (Fig. 3, App. B.1) come from `rho1 analyze` on the probe's score store: for CLM and the main SLM run
// over their checkpoints after step 0, and for CLM over windows of consecutive checkpoints (how the shares move over
// training). Step 0 is left out: the base is a TinyStories model, and its jump to the math domain in the first
// interval would swamp the slower movements the paper's rule classifies (the paper's checkpoints are all within
// continued pretraining). x is the training step (tokens seen per step are constant here).
interface Analysis {
  sequences: number;
  tokens: number;
  x: number[];
  categories: { counts: Record<TokenCategory, number>; shares: Record<TokenCategory, number> };
}
const windowOf = (steps: number[]) => {
  const w = Math.max(3, Math.ceil(steps.length / 2));
  const windows: number[][] = [];
  for (let start = 0; start + 1 < steps.length; start += w - 1) {
    const end = Math.min(steps.length, start + w);
    windows.push(steps.slice(start, end));
    if (end === steps.length) break;
  }
  return windows;
};
const analyses = [
  ...[...new Set([1, MAIN])].map((r) => ({
    name: `ratio-${Math.round(r * 100)}`,
    ratio: r,
    steps: checkpointSteps,
    window: false,
  })),
  ...windowOf(checkpointSteps).map((steps) => ({
    name: `ratio-100-steps-${steps[0]}-${steps.at(-1)}`,
    ratio: 1,
    steps,
    window: true,
  })),
];
const analysisSummary = (name: string) => join(p.analysis, name, "summary.json");
await pipeline.stage(
  "analyze",
  {
    options: { analyses, MAIN },
    inputs: [p.probeScores, ...analyses.flatMap((a) => a.steps.map((s) => ckpt(a.ratio, s)))],
    outputs: analyses.map((a) => analysisSummary(a.name)),
  },
  () => {
    rmSync(p.analysis, { recursive: true, force: true });
    const sequences = ScoreStore.open(p.probeScores).numSequences;
    for (const a of analyses) {
      rho1([
        "analyze",
        "--scores",
        p.probeScores,
        "--models",
        a.steps.map((s) => ckpt(a.ratio, s)).join(","),
        "--out",
        join(p.analysis, a.name),
        "--sequences",
        String(sequences),
        "--ratio",
        String(MAIN),
      ]);
    }
  },
);

// The same recipe in PyTorch (examples/experiment_torch.py): the score store as `rho1 score export` writes it (ids,
// validity and reference losses), the rows `rho1 train` draws at each step, in its order, and the held-out rows; the
// base model, schedule, AdamW, clipping and selection done by PyTorch itself. Its output is committed beside the doc (reproduction/pytorch-<run>.json), so the
// doc can show it where python3-torch is missing.
const TORCH_RATIOS = [...new Set([MAIN, 1])];
const torchJson = join(docsDir, "reproduction", `pytorch-${runName}.json`);
const torchAvailable =
  Bun.spawnSync(["/usr/bin/python3", "-c", "import torch"], { stdout: "ignore", stderr: "ignore" })
    .exitCode === 0;
if (torchAvailable) {
  await pipeline.stage(
    "pytorch",
    {
      options: { scale, seed, schedule, ratios: TORCH_RATIOS, checkpointSteps, v: 2 },
      inputs: [BASE, p.scores, p.parquet, p.heldOut, join(ROOT, "examples/experiment_torch.py")],
      outputs: [torchJson],
    },
    async () => {
      const recipe = join(out, "pytorch");
      mkdirSync(recipe, { recursive: true });
      const tokenizer = await loadTokenizer(BASE);
      const store = ScoreStore.open(p.scores);
      const T = store.seqLen;
      const B = scale.batchSize;
      const exported = join(recipe, "scores.parquet");
      rmSync(exported, { force: true });
      rho1(["score", "export", "--scores", p.scores, "--format", "parquet", "--out", exported]);
      const drawn = new Int32Array(scale.steps * B);
      const sampler = new Sampler(store.numSequences, seed, true); // as train() draws its batches
      for (let step = 0; step < scale.steps; step++) drawn.set(sampler.next(B), step * B);
      const heldOut = await packText([p.heldOut], tokenizer, T);
      const heldIds = new Int32Array(heldOut.numSequences * T);
      const heldValid = new Float32Array(heldOut.numSequences * (T - 1));
      for (let i = 0; i < heldOut.numSequences; i++) {
        const s = heldOut.sequence(i);
        heldIds.set(s.ids, i * T);
        heldValid.set(s.valid, i * (T - 1));
      }
      const files: [string, Int32Array | Float32Array][] = [
        ["train_rows.i32", drawn],
        ["heldout_ids.i32", heldIds],
        ["heldout_valid.f32", heldValid],
      ];
      for (const [name, array] of files) writeFileSync(join(recipe, name), array);
      writeFileSync(
        join(recipe, "recipe.json"),
        `${JSON.stringify(
          {
            model: BASE,
            steps: scale.steps,
            batch_size: B,
            seq_len: T,
            heldout_rows: heldOut.numSequences,
            lr: schedule.lr,
            min_lr: schedule.minLr,
            warmup: schedule.warmup,
            weight_decay: schedule.weightDecay,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            clip: schedule.clip,
            ratios: TORCH_RATIOS,
            checkpoints: checkpointSteps,
            seed,
          },
          null,
          1,
        )}\n`,
      );
      mkdirSync(dirname(torchJson), { recursive: true });
      const py = Bun.spawnSync(
        ["/usr/bin/python3", join(ROOT, "examples/experiment_torch.py"), recipe, torchJson],
        { stdout: "inherit", stderr: "inherit" },
      );
      if (py.exitCode !== 0) throw new Error(`examples/experiment_torch.py exited with ${py.exitCode}`);
    },
  );
} else if (existsSync(torchJson)) {
  say(`pytorch: python3-torch not found; the doc shows the committed ${relative(ROOT, torchJson)}`);
} else say("pytorch: python3-torch not found (apt-get install python3-torch); no side-by-side");

// ---- Results: JSON, plots, docs/reproduction.md ----
const measured = JSON.parse(readFileSync(p.measure, "utf8")) as Measurements;
const analysed = Object.fromEntries(
  analyses.map((a) => [a.name, JSON.parse(readFileSync(analysisSummary(a.name), "utf8")) as Analysis]),
);
for (const [name, a] of Object.entries(analysed)) {
  if (a.tokens !== measured.probeTokens)
    throw new Error(
      `rho1 analyze (${name}) saw ${a.tokens} probe tokens, the measurements ${measured.probeTokens}`,
    );
}
const tokensAt = (step: number) => measured.runs["1"].find((c) => c.step === step)?.tokens ?? Number.NaN;
const m = {
  ...measured,
  /** Per run, from `rho1 analyze` over its checkpoints after step 0. */
  categories: Object.fromEntries(
    analyses
      .filter((a) => !a.window)
      .map((a) => {
        const { shares, counts } = analysed[a.name].categories;
        return [String(a.ratio), { shares, counts }];
      }),
  ),
  /** CLM per window of consecutive checkpoints (tokens seen), from `rho1 analyze` over that window. */
  categoryWindows: analyses
    .filter((a) => a.window)
    .map((a) => ({
      from: tokensAt(a.steps[0]),
      to: tokensAt(a.steps.at(-1) as number),
      shares: analysed[a.name].categories.shares,
    })),
};
const finalOf = (r: number) => m.runs[String(r)].at(-1) as Checkpoint;
const clm = m.runs["1"];
const slm = m.runs[String(MAIN)];
const clmFinal = finalOf(1).heldOut;
const ahead = slm.slice(1).filter((c, i) => c.heldOut < clm[i + 1].heldOut).length;
const reach = tokensToReach(slm, clmFinal, (c) => c.heldOut);
const assets = join(docsDir, "reproduction");
mkdirSync(assets, { recursive: true });
const svg = (name: string) => join(assets, `${name}-${runName}.svg`);
const mdPath = runName === "tiny" ? join(docsDir, "reproduction.md") : join(assets, `${runName}.md`);

const heldSeries: Series[] = ratios.map((r) => ({
  name: label(r),
  points: m.runs[String(r)].map((c) => [c.tokens, c.heldOut] as [number, number]),
  dashed: r !== 1 && r !== MAIN,
}));
await writeSvg(
  svg("heldout"),
  lossCurvesSvg(heldSeries, {
    title: "Held-out loss on clean target text",
    xLabel: "training tokens seen",
    yLabel: "mean token CE (nats)",
  }),
);
await writeSvg(
  svg("ratio-sweep"),
  lossCurvesSvg(
    [
      {
        name: "final held-out loss",
        points: ratios.map((r) => [r * 100, finalOf(r).heldOut] as [number, number]),
      },
      {
        name: "CLM final",
        points: [
          [ratios[0] * 100, clmFinal],
          [100, clmFinal],
        ],
        dashed: true,
      },
    ],
    {
      title: "Selection ratio sweep (equal tokens seen)",
      xLabel: "tokens selected (%)",
      yLabel: "held-out loss",
    },
  ),
);
const group = (pts: Checkpoint[], k: "probeClean" | "probeJunk") =>
  pts.map((c) => [c.tokens, c[k] as number] as [number, number]);
await writeSvg(
  svg("clean-junk"),
  lossCurvesSvg(
    [
      { name: "CLM: clean tokens", points: group(clm, "probeClean") },
      { name: "CLM: junk tokens", points: group(clm, "probeJunk"), dashed: true },
      { name: `SLM ${MAIN * 100}%: clean tokens`, points: group(slm, "probeClean") },
      { name: `SLM ${MAIN * 100}%: junk tokens`, points: group(slm, "probeJunk"), dashed: true },
    ],
    {
      title: "Probe loss: clean text vs junk (rows never trained on)",
      xLabel: "training tokens seen",
      yLabel: "mean token CE (nats)",
    },
  ),
);
const slmMetrics = readMetrics(join(p.run(MAIN), "metrics.jsonl"));
const win = Math.max(1, Math.round(scale.steps / 25));
const metricSeries = (k: "loss_selected" | "loss_unselected" | "loss") => {
  const ys = smooth(
    slmMetrics.map((x) => x[k]),
    win,
  );
  return slmMetrics.map((x, i) => [x.step, ys[i]] as [number, number]);
};
await writeSvg(
  svg("training-loss"),
  lossCurvesSvg(
    [
      { name: "all tokens", points: metricSeries("loss") },
      { name: "selected", points: metricSeries("loss_selected") },
      { name: "unselected", points: metricSeries("loss_unselected"), dashed: true },
    ],
    { title: `SLM ${MAIN * 100}% training batches`, xLabel: "step", yLabel: "batch mean CE (smoothed)" },
  ),
);

const f4 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(4));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
// Mean per-batch losses of the main SLM run over five equal spans of steps.
const batchRows = Array.from({ length: 5 }, (_, k) => {
  const part = slmMetrics.slice(
    Math.floor((k * slmMetrics.length) / 5),
    Math.floor(((k + 1) * slmMetrics.length) / 5),
  );
  const avg = (f: (x: (typeof part)[number]) => number | null) => {
    const v = part.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };
  return `| ${part[0]?.step}–${part.at(-1)?.step} | ${f4(avg((x) => x.loss))} | ${f4(avg((x) => x.loss_selected))} | ${f4(avg((x) => x.loss_unselected))} |`;
});
const seconds = Object.fromEntries(pipeline.records.map((r) => [r.name, r.seconds]));

// Share of the training tokens that are clean target text (the rest is junk): the ratio that keeps about this many
// tokens is the one that can drop all the junk and nothing else.
async function cleanTokenShare(): Promise<number> {
  const tokenizer = await loadTokenizer(BASE);
  const clean = cleanFiles.flatMap((f) => readCleanJsonl(f));
  const texts: string[] = [];
  const cleanTexts: string[] = [];
  for await (const d of readTextDocuments(p.parquet)) texts.push(d.text ?? "");
  for await (const d of readTextDocuments(p.parquet, "metadata")) {
    const meta = JSON.parse(d.text ?? "{}") as { rho1_demo?: { clean_index?: number } };
    cleanTexts.push(clean[meta.rho1_demo?.clean_index ?? -1] ?? "");
  }
  const count = (xs: string[]) => tokenizer.encodeCorpus(xs).reduce((n, ids) => n + ids.length, 0);
  return count(cleanTexts) / count(texts);
}
const cleanShare = await cleanTokenShare();
const results = {
  run: runName,
  scale: scaleName,
  settings: {
    ...scale,
    seed,
    ratios,
    schedule,
    corpusDocs,
    cleanFiles: cleanFiles.map(cleanName),
    backend,
    cpus: cpus().length,
  },
  measurements: m,
  seconds,
  summary: {
    cleanTokenShare: cleanShare,
    clmFinal,
    slmFinal: finalOf(MAIN).heldOut,
    aheadAt: ahead,
    checkpoints: slm.length - 1,
    tokensToReachClm: reach,
  },
};
writeFileSync(join(assets, `results-${runName}.json`), `${JSON.stringify(results, null, 2)}\n`);

const rel = (f: string) => relative(dirname(mdPath), f);
const ratioRows = ratios.map((r) => {
  const c = finalOf(r);
  const reachR = r === 1 ? null : tokensToReach(m.runs[String(r)], clmFinal, (x) => x.heldOut);
  return `| ${label(r)} | ${f4(c.heldOut)} | ${r === 1 ? "–" : (c.heldOut - clmFinal).toFixed(4)} | ${c.tokens} | ${c.selectedTokens} | ${r === 1 ? "–" : reachR === null ? "not reached" : pct(reachR / finalOf(1).tokens)} |`;
});
const catRow = (name: string, s: Record<TokenCategory, number>) =>
  `| ${name} | ${CATEGORIES.map((k) => pct(s[k])).join(" | ")} |`;
const best = ratios.reduce((a, b) => (finalOf(b).heldOut < finalOf(a).heldOut ? b : a));
const finals = ratios.map((r) => finalOf(r).heldOut);
const monotonic = finals.every((x, i) => i === 0 || x > finals[i - 1]);
const c0 = clm[0];
const cN = clm.at(-1) as Checkpoint;
const sN = slm.at(-1) as Checkpoint;
const unselFirst = slmMetrics.slice(0, Math.max(1, Math.floor(slmMetrics.length / 5)));
const unselLast = slmMetrics.slice(Math.floor((4 * slmMetrics.length) / 5));
const meanOf = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
};
const u0 = meanOf(unselFirst.map((x) => x.loss_unselected));
const u1 = meanOf(unselLast.map((x) => x.loss_unselected));
const s0 = meanOf(unselFirst.map((x) => x.loss_selected));
const s1 = meanOf(unselLast.map((x) => x.loss_selected));
// PyTorch side by side (examples/experiment_torch.py's output for this run, when there is one).
interface TorchRun {
  checkpoints: { step: number; tokens: number; held_out: number }[];
}
const torch = existsSync(torchJson)
  ? (JSON.parse(readFileSync(torchJson, "utf8")) as {
      framework: string;
      seconds: number;
      recipe: { steps: number; seed: number; checkpoints: number[] };
      runs: Record<string, TorchRun>;
    })
  : null;
const torchMatches =
  torch !== null &&
  torch.recipe.steps === scale.steps &&
  torch.recipe.seed === seed &&
  JSON.stringify(torch.recipe.checkpoints) === JSON.stringify(checkpointSteps) &&
  TORCH_RATIOS.every((r) => torch.runs[String(r)]?.checkpoints.length === clm.length);
let torchSection = "";
let torchSentence =
  "- No PyTorch run of this recipe is recorded for this run (`apt-get install python3-torch`, then rerun).";
if (torch && torchMatches) {
  const heldOfTorch = (r: number) => (torch.runs[String(r)] as TorchRun).checkpoints.map((c) => c.held_out);
  const ptSlm = heldOfTorch(MAIN);
  const ptClm = heldOfTorch(1);
  const diffs = (r: number, pt: number[]) => m.runs[String(r)].map((c, i) => c.heldOut - (pt[i] as number));
  const maxAbs = (xs: number[]) => Math.max(...xs.slice(1).map(Math.abs));
  const dSlm = maxAbs(diffs(MAIN, ptSlm));
  const dClm = maxAbs(diffs(1, ptClm));
  const ptAhead = ptSlm.slice(1).filter((x, i) => x < (ptClm[i + 1] as number)).length;
  const ptPoints = (pt: number[]) => clm.map((c, i) => ({ tokens: c.tokens, heldOut: pt[i] as number }));
  const ptReach = tokensToReach(ptPoints(ptSlm), ptClm.at(-1) as number, (c) => c.heldOut);
  // The run's own wiggle: the smallest change of the TypeScript CLM curve between consecutive checkpoints.
  const wiggle = Math.min(
    ...clm.slice(2).map((c, i) => Math.abs(c.heldOut - (clm[i + 1] as Checkpoint).heldOut)),
  );
  await writeSvg(
    svg("pytorch"),
    lossCurvesSvg(
      [
        { name: `${label(MAIN)}, rho1`, points: slm.map((c) => [c.tokens, c.heldOut] as [number, number]) },
        {
          name: `${label(MAIN)}, PyTorch`,
          points: ptPoints(ptSlm).map((c) => [c.tokens, c.heldOut]),
          dashed: true,
        },
        { name: `${label(1)}, rho1`, points: clm.map((c) => [c.tokens, c.heldOut] as [number, number]) },
        {
          name: `${label(1)}, PyTorch`,
          points: ptPoints(ptClm).map((c) => [c.tokens, c.heldOut]),
          dashed: true,
        },
      ],
      {
        title: "Held-out loss: rho1 (TensorFlow.js) and PyTorch, same recipe",
        xLabel: "training tokens seen",
        yLabel: "mean token CE (nats)",
      },
    ),
  );
  const reachText = (r: number | null, total: number) =>
    r === null
      ? "does not reach CLM's final loss"
      : `reaches CLM's final loss after ${pct(r / total)} of the tokens`;
  torchSection = `
## The same recipe in PyTorch

\`examples/experiment_torch.py\` (run by this script; its output is \`${rel(torchJson)}\`) trains the same base model on the
same batches in the same order, with the same stored reference losses, schedule, AdamW, clipping and selection ratio,
in ${torch.framework.replace(/\b1 threads\b/, "1 thread")} (${torch.seconds} s). Held-out loss at every checkpoint:

![rho1 and PyTorch](${rel(svg("pytorch"))})

| checkpoint (tokens seen) | ${label(MAIN)}, rho1 | ${label(MAIN)}, PyTorch | Δ | CLM, rho1 | CLM, PyTorch | Δ |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${clm.map((c, i) => `| ${c.tokens} | ${f4((slm[i] as Checkpoint).heldOut)} | ${f4(ptSlm[i] as number)} | ${((slm[i] as Checkpoint).heldOut - (ptSlm[i] as number)).toFixed(6)} | ${f4(c.heldOut)} | ${f4(ptClm[i] as number)} | ${(c.heldOut - (ptClm[i] as number)).toFixed(6)} |`).join("\n")}

Largest |rho1 − PyTorch| after step 0: ${dSlm.toExponential(1)} (${label(MAIN)}) and ${dClm.toExponential(1)} (CLM), against a final
SLM−CLM gap of ${(finalOf(MAIN).heldOut - clmFinal).toFixed(4)} (rho1) and ${((ptSlm.at(-1) as number) - (ptClm.at(-1) as number)).toFixed(4)} (PyTorch) and a smallest
checkpoint-to-checkpoint change of the CLM curve of ${wiggle.toFixed(4)}. In PyTorch ${label(MAIN)} is below CLM at ${ptAhead} of ${clm.length - 1} checkpoints and ${reachText(ptReach, finalOf(1).tokens)};
in rho1 at ${ahead} of ${slm.length - 1} and ${reachText(reach, finalOf(1).tokens)}.
`;
  torchSentence = `- The same recipe in PyTorch (examples/experiment_torch.py, section above) puts ${label(MAIN)} below CLM at ${ptAhead} of ${clm.length - 1} checkpoints
  and ${reachText(ptReach, finalOf(1).tokens)}; its held-out losses differ from rho1's by at most ${Math.max(dSlm, dClm).toExponential(1)} nats/token at any checkpoint.`;
} else if (torch) {
  torchSentence = `- The recorded PyTorch run (\`${rel(torchJson)}\`) is of a different recipe (steps, seed or checkpoints) than this run; rerun with python3-torch installed.`;
}

const observations = `## Observations (computed from the numbers above)

- Held-out loss: SLM ${MAIN * 100}% is below CLM at ${ahead} of ${slm.length - 1} checkpoints and ends ${Math.abs(finalOf(MAIN).heldOut - clmFinal).toFixed(4)} nats/token ${finalOf(MAIN).heldOut < clmFinal ? "lower" : "higher"}; ${reach === null ? "it does not reach CLM's final loss" : `it reaches CLM's final loss with ${pct(reach / cN.tokens)} of the tokens`}.
- Ratio sweep: the final held-out loss ${monotonic ? "rises monotonically with the ratio" : "is not monotonic in the ratio"}; the best is ${label(best)}. With ${pct(cleanShare)} of the training tokens clean, only ratios at or below that share can drop all the junk (the paper reports about 60% best on OpenWebMath).
- Junk vs clean on the probe: CLM's loss on junk tokens goes ${f4(c0.probeJunk)} → ${f4(cN.probeJunk)} (it learns the junk), SLM's → ${f4(sN.probeJunk)}; on clean tokens CLM ${f4(c0.probeClean)} → ${f4(cN.probeClean)}, SLM → ${f4(sN.probeClean)}.
- Selection: at the end ${pct(sN.selectedClean ?? Number.NaN)} of the tokens the SLM model selects on the probe are clean text, against ${pct(1 - m.probeJunkShare)} clean tokens overall.
- Per training batch (SLM ${MAIN * 100}%), first fifth → last fifth of the steps: selected ${f4(s0)} → ${f4(s1)}, unselected ${f4(u0)} → ${f4(u1)} (${u1 > u0 ? "rises, as in the paper" : "falls, but more slowly than the selected tokens' loss; the paper reports it rising"}).
`;
const command = [
  `--scale ${scaleName}`,
  `--seed ${seed}`,
  values.steps ? `--steps ${scale.steps}` : "",
  values.ratios !== DEFAULT_RATIOS ? `--ratios ${values.ratios}` : "",
]
  .filter(Boolean)
  .join(" ");
// Other finished runs (other seeds or scales) beside this one: their headline numbers, for the spread.
const others = readdirSync(assets)
  .filter((f) => /^results-.+\.json$/.test(f) && f !== `results-${runName}.json`)
  .sort()
  .map(
    (f) =>
      JSON.parse(readFileSync(join(assets, f), "utf8")) as {
        run?: string;
        settings: { seed: number; steps: number };
        summary: {
          clmFinal: number;
          slmFinal: number;
          aheadAt: number;
          checkpoints: number;
          tokensToReachClm: number | null;
          clmTokens?: number;
        };
      },
  );
const otherRuns = others.length
  ? `\n## Other runs\n\n| run | seed | steps | CLM final | SLM ${MAIN * 100}% final | Δ | SLM ahead at |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n${others
      .map(
        (o) =>
          `| [${o.run}](${rel(o.run === "tiny" ? join(docsDir, "reproduction.md") : join(assets, `${o.run}.md`))}) | ${o.settings.seed} | ${o.settings.steps} | ${f4(o.summary.clmFinal)} | ${f4(o.summary.slmFinal)} | ${(o.summary.slmFinal - o.summary.clmFinal).toFixed(4)} | ${o.summary.aheadAt}/${o.summary.checkpoints} |`,
      )
      .join("\n")}\n`
  : "";
const md = `# Small-scale reproduction of Selective Language Modeling (scale: ${scaleName}, seed ${seed})

**What this measures:** the held-out loss of clean target text (GSM8K/MATH-style solutions no model trained on) while a
tiny pretrained Llama continues pretraining on a noisy web-style corpus, with Selective Language Modeling at several
ratios against plain causal LM, at equal tokens seen: the loss-level claims of Rho-1 (Fig. 6, 7, 9 and the token
categories of Fig. 3)${torch && torchMatches ? ", plus the same recipe run in PyTorch as a check of the implementation" : ""}.

**What it does not measure:** few-shot math accuracy, Rho-1's headline (Table 1: GSM8K, MATH and seven more at 1B and
7B after 15B tokens). A 260K-parameter model answers none of those questions whatever it is trained on, and its
512-token context cannot even hold the few-shot prompts (\`rho1 eval\` gives such prompts an empty completion, as vLLM
does); continuing a 1.1B model on 15B tokens takes a GPU cluster, not this 2-core machine. \`rho1 eval\` implements the
paper's harness for when a model of that scale is trained.

Generated by \`bun run experiment -- ${command}\` (examples/experiment.ts) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus().length} CPU cores, TensorFlow.js backend \`${backend}\`. Total time ${(Object.values(seconds).reduce((a, b) => a + b, 0) / 60).toFixed(1)} min.

## Setup

- **Base model**: \`models/stories260K\` (a real pretrained 260K-parameter Llama, TinyStories, vocab 512).
- **Corpus**: ${corpusDocs} OpenWebMath-schema rows made by \`examples/lib/noisy-corpus.ts\` (seed ${seed}) from ${cleanFiles.map((f) => `\`${cleanName(f)}\``).join(" and ")}: each clean GSM8K/MATH document wrapped in web junk
  (boilerplate, navigation, number tables, ids and hashes, mojibake, code; about 50% of the characters).
- **Reference model**: the base trained with plain causal LM on ${scale.refDocs} other clean documents for ${scale.refSteps} steps of ${scale.batchSize} × ${scale.seqLen} tokens.
- **Runs**: the base continued on the corpus for ${scale.steps} steps of ${scale.batchSize} × ${scale.seqLen} tokens, AdamW (β 0.9/0.95, weight decay 0.1), peak lr ${scale.lr}, ${schedule.warmup} warm-up steps, cosine to lr/10, clip 1.0, data-order seed ${seed}; identical sequences in identical order for every ratio. SLM ranks excess loss (training-model loss − stored reference loss) over each batch and back-propagates the top *ratio* of tokens; 100% is plain causal LM (CLM).
- **Held-out loss**: mean token cross-entropy on ${m.heldOutTokens} tokens of ${scale.heldOutDocs} clean documents no model trained on, at step 0 and every ${saveEvery} steps.
- **Probe**: ${m.probeTokens} tokens of ${scale.probeRows} noisy rows never trained on (${pct(m.probeJunkShare)} junk), each token labelled clean or junk from the junk spans the corpus builder records.

Reference model held-out loss: ${f4(m.referenceHeldOut)}; base: ${f4(m.baseHeldOut)}.

## SLM vs CLM at equal tokens (Fig. 6 analogue)

![held-out loss](${rel(svg("heldout"))})

SLM ${MAIN * 100}% is below CLM at ${ahead} of ${slm.length - 1} checkpoints; final held-out loss ${f4(finalOf(MAIN).heldOut)} vs ${f4(clmFinal)} (${(finalOf(MAIN).heldOut - clmFinal).toFixed(4)}).
${reach === null ? `SLM ${MAIN * 100}% did not reach CLM's final loss within the budget.` : `SLM ${MAIN * 100}% reached CLM's final held-out loss after ${pct(reach / finalOf(1).tokens)} of the tokens (${Math.round(reach)} of ${finalOf(1).tokens}).`}

| checkpoint (tokens seen) | ${ratios.map(label).join(" | ")} |
| ---: | ${ratios.map(() => "---:").join(" | ")} |
${clm.map((c, i) => `| ${c.tokens} | ${ratios.map((r) => f4(m.runs[String(r)][i].heldOut)).join(" | ")} |`).join("\n")}

${torchSection}
## Selection-ratio sweep (Fig. 9 analogue)

![ratio sweep](${rel(svg("ratio-sweep"))})

| run | final held-out loss | Δ vs CLM | tokens seen | tokens trained on | tokens to reach CLM's final loss |
| --- | ---: | ---: | ---: | ---: | ---: |
${ratioRows.join("\n")}

Lowest final held-out loss: ${label(best)} (the paper finds about 60% best). Clean target text is ${pct(cleanShare)} of the
training tokens here (the rest is junk), so a ratio near that share can keep the clean tokens and drop the junk.

## Selected vs unselected tokens

Per training batch of the SLM ${MAIN * 100}% run (selection recomputed at every step, from its metrics.jsonl; the paper's
Fig. 6 view):

![training loss](${rel(svg("training-loss"))})

| steps | all tokens | selected | unselected |
| --- | ---: | ---: | ---: |
${batchRows.join("\n")}

On the probe, with each token's ground truth (clean target text or junk), and the selection each model would make there
(top ${MAIN * 100}% of excess loss over the probe):

![probe loss, clean vs junk](${rel(svg("clean-junk"))})

| tokens seen | CLM: clean | CLM: junk | SLM: clean | SLM: junk | SLM: selected | SLM: unselected | clean share of selection, CLM model | …, SLM model |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${clm.map((c, i) => `| ${c.tokens} | ${f4(c.probeClean)} | ${f4(c.probeJunk)} | ${f4(slm[i].probeClean)} | ${f4(slm[i].probeJunk)} | ${f4(slm[i].probeSelected)} | ${f4(slm[i].probeUnselected)} | ${pct(c.selectedClean ?? Number.NaN)} | ${pct(slm[i].selectedClean ?? Number.NaN)} |`).join("\n")}

## Token categories over checkpoints (Fig. 3 / App. B.1 rule)

From \`rho1 analyze\` (its \`summary.json\`) on the probe's score store and each run's checkpoints after step 0:
least-squares line of each probe token's loss over the checkpoints (x = training step; the base model's jump from
TinyStories to math in the first interval is left out); ΔL < −0.2 → H→L, ΔL > 0.2 → L→H, otherwise L→L if its last
loss ≤ the mean last loss, else H→H. [token-analysis.md](token-analysis.md) has the command's output on the demo's
runs, with the selected-vs-unselected view and document selection.

\`\`\`sh
cd ${relative(ROOT, out)}
${analyses
  .filter((a) => !a.window)
  .map(
    (a) =>
      `rho1 analyze --scores probe-scores --models ${a.steps.map((s) => `${relative(out, p.run(a.ratio))}/${checkpointName(s)}`).join(",")} --out analysis/${a.name} --sequences ${analysed[a.name].sequences} --ratio ${MAIN}`,
  )
  .join("\n")}
\`\`\`

| run | ${CATEGORIES.join(" | ")} |
| --- | ${CATEGORIES.map(() => "---:").join(" | ")} |
${Object.entries(m.categories)
  .map(([k, v]) => catRow(label(Number(k)), v.shares))
  .join("\n")}
| paper (Tinyllama, CLM) | 11% | 12% | 26% | 51% |

CLM, by window of checkpoints:

| tokens seen | ${CATEGORIES.join(" | ")} |
| --- | ${CATEGORIES.map(() => "---:").join(" | ")} |
${m.categoryWindows.map((w) => catRow(`${w.from}–${w.to}`, w.shares)).join("\n")}

${observations}
## What this does and does not show

- One seed per run, one corpus, one tiny model: differences between neighbouring ratios smaller than the checkpoint-to-checkpoint
  wiggle of a curve are not evidence of anything. Rerun with \`--seed\` to see the spread.
- The junk is synthetic (examples/lib/web-junk.ts) and the clean text is exactly the held-out distribution, so the
  reference model knows precisely what "useful" means here. That is the setting the method is built for; real
  OpenWebMath noise is subtler, so the size of the effect here says little about its size at scale.
- The base model is a TinyStories model, so the first interval of training is dominated by the move to the math domain;
  the token categories leave step 0 out for that reason, and their shares are not expected to match the paper's
  (which come from a 1.1B model already fluent in the domain).
${torchSentence}

## Run times

| stage | seconds |
| --- | ---: |
${pipeline.records.map((r) => `| ${r.name} | ${r.seconds.toFixed(1)}${r.reused ? " (reused)" : ""} |`).join("\n")}

## Reproduce

\`\`\`sh
bun install
bun run experiment -- ${command}   # work files in runs/experiment/${runName}/
\`\`\`

With Debian's \`python3-torch\` installed (\`apt-get install python3-torch\`) the run includes the PyTorch side-by-side;
without it the doc shows the committed \`${rel(torchJson)}\` when that is of the same recipe.

All numbers above are in \`${rel(join(assets, `results-${runName}.json`))}\`.
${otherRuns}
`;
writeFileSync(mdPath, md);
// The committed docs stay Biome-clean (`bun run lint` formats Markdown and JSON too): format what was written.
const fmt = Bun.spawnSync(
  [
    "bunx",
    "biome",
    "format",
    "--write",
    ...[mdPath, join(assets, `results-${runName}.json`), torchJson].filter(existsSync),
  ],
  { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
);
if (fmt.exitCode !== 0)
  say(`note: biome format failed, docs left as written: ${fmt.stderr.toString().trim().split("\n")[0]}`);
console.log(
  `held-out loss: CLM ${f4(clmFinal)}, SLM ${MAIN * 100}% ${f4(finalOf(MAIN).heldOut)}; SLM ahead at ${ahead}/${slm.length - 1} checkpoints`,
);
for (const r of ratios) console.log(`  ${label(r).padEnd(12)} ${f4(finalOf(r).heldOut)}`);
console.log(
  `wrote ${relative(process.cwd(), mdPath)} and ${relative(process.cwd(), assets)}/ in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
