import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { expandInputs, lockOutput, removeStaleTemps, ScoreStore } from "@rho1/reference-scorer";
import { formatEta, ProgressLine } from "@rho1/report";
import type { SelectionScope } from "@rho1/selective-loss";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, defaultSeqLen, readConfig } from "@rho1/transformer";
import { AdamW, noDecayOf } from "./adamw.ts";
import {
  checkpointName,
  latestCheckpoint,
  readCheckpointState,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.ts";
import { clipGradNorm } from "./clip.ts";
import { packText, type SequenceSource, scoredSource } from "./data.ts";
import { TrainError } from "./errors.ts";
import { batchGradients, type MicroBatch } from "./gradients.ts";
import { MetricsLog } from "./metrics-log.ts";
import { type StepMetrics, writeLossCurves } from "./report.ts";
import { Sampler } from "./sampler.ts";
import { cosineSchedule } from "./schedule.ts";

export interface TrainOptions {
  /** Hugging Face folder of the model to train (config, weights, tokenizer). */
  modelDir: string;
  /** JSONL / parquet files or folders: the corpus (with refScores: the files that were scored, checked). */
  data: string[];
  /** Checkpoints, metrics.jsonl and loss-curves.html go here. */
  outDir: string;
  /** A score store from `rho1 score` (@rho1/reference-scorer): packed ids with reference losses. */
  refScores?: string;
  /**
   * Check every unit of refScores against its manifest (sha256, finite losses) before the first step (default
   * true; false for stores on trusted storage: sizes are still checked, and each unit's losses on first use).
   */
  verifyScores?: boolean;
  /** A reference model folder scored on every batch instead (slower: one extra forward per batch). */
  refModelDir?: string;
  /** Fraction of tokens trained on (default 0.6 with a reference, 1 = plain causal LM without). */
  selectRatio?: number;
  selectScope?: SelectionScope;
  /** Sequence length (default: the score store's, else the model's max_position_embeddings, at most 2048). */
  seqLen?: number;
  /** Sequences per micro-batch (default 8). */
  batchSize?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccum?: number;
  /** Peak learning rate (default 1e-4), reached after `warmup` steps, then cosine to `minLr` (default lr / 10). */
  lr?: number;
  minLr?: number;
  warmup?: number;
  /** Optimizer steps in the whole run (default 100). */
  steps?: number;
  weightDecay?: number;
  /**
   * Parameter groups without weight decay: any of "norms", "embeddings", "bias" (default none: plain
   * torch.optim.AdamW(model.parameters()) decays every parameter; Hugging Face's Trainer leaves out norms and bias).
   */
  weightDecayExclude?: string[];
  /** Global gradient-norm clip (default 1; 0 turns it off). */
  clip?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Data order seed (default 0). */
  seed?: number;
  /** Shuffle sequences each epoch (default true). */
  shuffle?: boolean;
  /** Write a checkpoint every N steps (default 0: only at the end). */
  saveEvery?: number;
  /** Continue from the latest checkpoint in outDir. */
  resume?: boolean;
  /** Column / field with the text (default "text"). */
  textColumn?: string;
  /** Progress output (default process.stderr); null silences it. */
  progress?: NodeJS.WriteStream | null;
  /** Called after every step. */
  onStep?: (metrics: StepMetrics) => void;
  /**
   * Called with each optimizer batch before its update (step counts from 0): the micro-batches as trained on (ids,
   * validity, reference losses) and the model's per-token CE on them. For inspection and alignment checks.
   */
  onBatch?: (
    step: number,
    batch: { micro: MicroBatch[]; tokenLoss: Float32Array[]; selected: Float32Array[] },
  ) => void;
}

export interface TrainSummary {
  /** Step the run started from (0, or the resumed checkpoint's). */
  startStep: number;
  /** Steps completed in total. */
  steps: number;
  /** Objective per step run in this call. */
  losses: number[];
  tokens: number;
  selectedTokens: number;
  /** The last checkpoint written. */
  checkpoint: string;
  seconds: number;
  tokensPerSecond: number;
}

function positive(name: string, value: number, integer: boolean, min = 1): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new TrainError(
      `--${name} must be ${integer ? "an integer" : "a number"} >= ${min}, found ${value}`,
      "bad_option",
    );
  }
  return value;
}

/**
 * The `rho1 train` loop: plain causal LM, or Selective Language Modeling with precomputed scores or a reference model.
 * Holds outDir's lock (one writer per folder) for the whole run; temp files of dead runs there are removed first.
 */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const lock = lockOutput(opts.outDir, "rho1 train");
  try {
    for (const name of removeStaleTemps(opts.outDir))
      (opts.progress ?? process.stderr)?.write(
        `rho1 train: cleaned up ${name}, left by a run that is gone\n`,
      );
    return await trainLocked(opts);
  } finally {
    lock.release();
  }
}

async function trainLocked(opts: TrainOptions): Promise<TrainSummary> {
  const started = performance.now();
  if (opts.refScores && opts.refModelDir)
    throw new TrainError("give --ref-scores or --ref-model, not both", "bad_option");
  const hasRef = Boolean(opts.refScores || opts.refModelDir);
  const ratio = opts.selectRatio ?? (hasRef ? 0.6 : 1);
  if (!(ratio > 0 && ratio <= 1))
    throw new TrainError(`--select-ratio must be in (0, 1], found ${ratio}`, "bad_option");
  if (ratio < 1 && !hasRef)
    throw new TrainError(`--select-ratio ${ratio} needs --ref-scores or --ref-model`, "bad_option");
  const scope = opts.selectScope ?? "batch";
  if (scope !== "batch" && scope !== "sequence")
    throw new TrainError(`--select-scope must be batch or sequence, found ${scope}`, "bad_option");
  const batchSize = positive("batch-size", opts.batchSize ?? 8, true);
  const gradAccum = positive("grad-accum", opts.gradAccum ?? 1, true);
  const totalSteps = positive("steps", opts.steps ?? 100, true);
  const lr = positive("lr", opts.lr ?? 1e-4, false, 0);
  const minLr = positive("min-lr", opts.minLr ?? lr / 10, false, 0);
  const warmup = positive("warmup", opts.warmup ?? 0, true, 0);
  const clip = positive("clip", opts.clip ?? 1, false, 0);
  const saveEvery = positive("save-every", opts.saveEvery ?? 0, true, 0);
  const seed = positive("seed", opts.seed ?? 0, true, 0);
  const optimizerOptions = {
    lr,
    beta1: opts.beta1 ?? 0.9,
    beta2: opts.beta2 ?? 0.95,
    eps: opts.eps ?? 1e-8,
    weightDecay: opts.weightDecay ?? 0.1,
  };
  if (opts.data.length === 0) throw new TrainError("--data: at least one file is required", "bad_option");
  const decayExclude = [...new Set(opts.weightDecayExclude ?? [])].sort();
  const noDecay = noDecayOf(decayExclude);

  const tokenizer = await loadTokenizer(opts.modelDir);
  const dataFiles = await expandInputs(opts.data);
  let source: SequenceSource;
  if (opts.refScores) {
    const store = ScoreStore.open(opts.refScores, { verify: opts.verifyScores ?? true });
    source = await scoredSource(store, opts.refScores, {
      tokenizerHash: tokenizer.hash,
      seqLen: opts.seqLen,
      data: dataFiles,
      textColumn: opts.textColumn,
    });
  } else {
    source = await packText(
      dataFiles,
      tokenizer,
      positive("seq-len", opts.seqLen ?? defaultSeqLen(readConfig(opts.modelDir)), true, 2),
      opts.textColumn,
    );
  }
  const seqLen = source.seqLen;
  if (source.skippedDocuments)
    (opts.progress ?? process.stderr)?.write(
      `rho1 train: skipped ${source.skippedDocuments} documents with an empty or null text\n`,
    );

  const fingerprint: Record<string, unknown> = {
    data: dataFiles.map((p) => basename(p)),
    refScores: opts.refScores ? resolve(opts.refScores) : null,
    refModel: opts.refModelDir ? resolve(opts.refModelDir) : null,
    ratio,
    scope,
    seqLen,
    batchSize,
    gradAccum,
    steps: totalSteps,
    seed,
    shuffle: opts.shuffle ?? true,
    clip,
    ...optimizerOptions,
    minLr,
    warmup,
    // only when set, so checkpoints written before the option existed still resume
    ...(decayExclude.length > 0 ? { weightDecayExclude: decayExclude } : {}),
  };
  const schedule = { lr, minLr, warmup, total: totalSteps };

  mkdirSync(opts.outDir, { recursive: true });
  const metricsLog = new MetricsLog(join(opts.outDir, "metrics.jsonl"));
  const notice = (line: string) => (opts.progress ?? process.stderr)?.write(`${line}\n`);
  const curvesPath = join(opts.outDir, "loss-curves.html");
  const latest = latestCheckpoint(opts.outDir);
  if (latest && !opts.resume) {
    throw new TrainError(
      `--out ${opts.outDir} already holds ${basename(latest)}: pass --resume or choose another --out`,
      "out_not_empty",
    );
  }
  const resumeFrom = opts.resume ? latest : null;

  const model = await CausalLM.load(resumeFrom ?? opts.modelDir);
  const reference = opts.refModelDir ? await CausalLM.load(opts.refModelDir) : undefined;
  if (reference && reference.config.vocabSize !== model.config.vocabSize) {
    throw new TrainError(
      `--ref-model vocabulary ${reference.config.vocabSize} differs from the model's ${model.config.vocabSize}`,
      "bad_option",
    );
  }
  const optimizer = new AdamW(model.variables, { ...optimizerOptions, noDecay });
  const sampler = new Sampler(source.numSequences, seed, opts.shuffle ?? true);
  let step = 0;
  let tokens = 0;
  let selectedTokens = 0;
  let history: StepMetrics[] = [];
  if (resumeFrom) {
    const { state, optimizer: moments } = readCheckpointState(resumeFrom);
    for (const [key, value] of Object.entries(fingerprint)) {
      if (JSON.stringify(state.fingerprint[key]) !== JSON.stringify(value)) {
        throw new TrainError(
          `--resume: ${key} was ${JSON.stringify(state.fingerprint[key])} in ${basename(resumeFrom)}, now ${JSON.stringify(value)}`,
          "resume_mismatch",
        );
      }
    }
    optimizer.loadState(moments);
    sampler.restore(state.data);
    ({ step, tokens, selectedTokens } = state);
    history = metricsLog.restore(step, notice);
  } else metricsLog.reset();

  const progress = opts.progress === null ? null : new ProgressLine(opts.progress ?? process.stderr);
  const title = `rho1 train: ${basename(resolve(opts.modelDir))}, ${ratio < 1 ? `SLM ratio ${ratio} (${scope})` : "causal LM"}`;
  const startStep = step;
  let lastCheckpoint = resumeFrom ?? "";
  const losses: number[] = [];
  let smoothedStepSeconds = 0;
  let runTokens = 0;

  const makeMicroBatch = (indices: number[]): MicroBatch => {
    const ids = new Int32Array(indices.length * seqLen);
    const valid = new Float32Array(indices.length * (seqLen - 1));
    const refLoss = source.hasReference ? new Float32Array(indices.length * (seqLen - 1)) : undefined;
    indices.forEach((seq, row) => {
      const s = source.sequence(seq);
      ids.set(s.ids, row * seqLen);
      valid.set(s.valid, row * (seqLen - 1));
      if (refLoss && s.refLoss) refLoss.set(s.refLoss, row * (seqLen - 1));
    });
    return {
      batch: indices.length,
      time: seqLen,
      ids,
      valid,
      refLoss,
      label: `sequences ${indices.join(",")}`,
    };
  };

  try {
    while (step < totalSteps) {
      const t0 = performance.now();
      const stepLr = cosineSchedule(step, schedule);
      const micro = Array.from({ length: gradAccum }, () => makeMicroBatch(sampler.next(batchSize)));
      let result: ReturnType<typeof batchGradients>;
      try {
        result = batchGradients(model, micro, { ratio, scope, referenceModel: reference });
      } catch (error) {
        if (error instanceof TrainError && error.code === "non_finite_loss") {
          throw new TrainError(
            `step ${step + 1}: ${error.message}; stopped${lastCheckpoint ? `, last good checkpoint ${lastCheckpoint}` : " (no checkpoint written yet)"}`,
            "non_finite_loss",
          );
        }
        throw error;
      }
      opts.onBatch?.(step, { micro, tokenLoss: result.tokenLoss, selected: result.selected });
      let grads = result.grads;
      let norm: number;
      if (clip > 0) ({ grads, norm } = clipGradNorm(grads, clip));
      else norm = clipGradNorm(grads, Number.POSITIVE_INFINITY).norm;
      if (!Number.isFinite(norm)) {
        for (const g of grads.values()) g.dispose();
        throw new TrainError(
          `step ${step + 1}: gradient norm is ${norm} (micro-batches: ${micro.map((m) => m.label).join("; ")}); stopped${lastCheckpoint ? `, last good checkpoint ${lastCheckpoint}` : ""}`,
          "non_finite_loss",
        );
      }
      optimizer.step(grads, stepLr);
      for (const g of grads.values()) g.dispose();
      step++;
      tokens += result.stats.nValid;
      selectedTokens += result.stats.nSelected;
      losses.push(result.loss);
      const seconds = (performance.now() - t0) / 1000;
      const stepTokens = gradAccum * batchSize * seqLen;
      runTokens += stepTokens;
      smoothedStepSeconds = smoothedStepSeconds === 0 ? seconds : 0.8 * smoothedStepSeconds + 0.2 * seconds;
      const metrics: StepMetrics = {
        step,
        lr: stepLr,
        loss: result.stats.lossAll,
        loss_selected: result.stats.lossSelected,
        loss_unselected: Number.isFinite(result.stats.lossUnselected) ? result.stats.lossUnselected : null,
        tokens,
        selected_tokens: selectedTokens,
        tokens_per_s: stepTokens / seconds,
        grad_norm: norm,
        excess_loss: Number.isFinite(result.stats.meanExcess) ? result.stats.meanExcess : null,
      };
      metricsLog.append(metrics);
      history.push(metrics);
      opts.onStep?.(metrics);
      progress?.update(
        `step ${step}/${totalSteps}  loss ${metrics.loss.toFixed(4)}  selected ${metrics.loss_selected.toFixed(4)}  ` +
          `lr ${stepLr.toExponential(2)}  ${Math.round(metrics.tokens_per_s)} tok/s  ETA ${formatEta((totalSteps - step) * smoothedStepSeconds)}`,
      );
      if ((saveEvery > 0 && step % saveEvery === 0) || step === totalSteps) {
        const state: TrainerState = {
          format: "rho1-trainer-state",
          version: 1,
          step,
          fingerprint,
          schedule,
          data: sampler.save(),
          tokens,
          selectedTokens,
        };
        metricsLog.sync();
        lastCheckpoint = await saveCheckpoint(opts.outDir, model, optimizer.state(), state, opts.modelDir);
        writeLossCurves(curvesPath, history, title);
      }
    }
  } finally {
    progress?.done();
    optimizer.dispose();
    model.dispose();
    reference?.dispose();
  }
  if (!existsSync(curvesPath)) writeLossCurves(curvesPath, history, title);
  const seconds = (performance.now() - started) / 1000;
  return {
    startStep,
    steps: step,
    losses,
    tokens,
    selectedTokens,
    checkpoint: lastCheckpoint || join(opts.outDir, checkpointName(step)),
    seconds,
    tokensPerSecond: runTokens / seconds,
  };
}
