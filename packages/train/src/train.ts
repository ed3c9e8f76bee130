import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type Communicator, SOLO } from "@rho1/distributed";
import { lockOutput, removeStaleTemps } from "@rho1/io";
import { expandInputs, ScoreStore } from "@rho1/reference-scorer";
import { formatEta, ProgressLine } from "@rho1/report";
import type { SelectionScope } from "@rho1/selective-loss";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, defaultSeqLen, readConfig } from "@rho1/transformer";
import { AdamW, noDecayOf } from "./adamw.ts";
import {
  checkpointName,
  type HfTrainerState,
  type LogEntry,
  latestCheckpoint,
  type Rho1State,
  readCheckpointState,
  replaceDir,
  rotateCheckpoints,
  saveCheckpoint,
} from "./checkpoint.ts";
import { clipGradNormAsync } from "./clip.ts";
import { packText, type SequenceSource, scoredSource } from "./data.ts";
import { TrainError } from "./errors.ts";
import { meanLoss } from "./evaluate.ts";
import { batchGradients, type MicroBatch } from "./gradients.ts";
import { MetricsLog } from "./metrics-log.ts";
import {
  type EvalMetrics,
  type MetricsLine,
  type StepMetrics,
  writeLossCurves,
  writeMetricsCsv,
} from "./report.ts";
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
  /**
   * Optimizer steps in the whole run (default 100, or what `epochs` gives). A resumed run may extend it: the cosine
   * schedule is then recomputed for the new total.
   */
  steps?: number;
  /** Passes over the corpus, used when `steps` is not given (Trainer's num_train_epochs; may be fractional). */
  epochs?: number;
  /** Warm-up as a fraction of the steps (Trainer's warmup_ratio, rounded up); `warmup` wins when both are given. */
  warmupRatio?: number;
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
  /** Continue from this checkpoint (Trainer's resume_from_checkpoint); later checkpoints in outDir are replaced. */
  resumeFromCheckpoint?: string;
  /** Keep at most N checkpoints (oldest deleted first; the best and the newest always stay). 0: keep all. */
  saveTotalLimit?: number;
  /** Held-out files (JSONL / parquet) whose mean token loss is logged as eval_loss. */
  evalData?: string[];
  /** Evaluate every N steps (default: at every checkpoint, and at the end). */
  evalEvery?: number;
  /** At the end, write the best checkpoint's weights (lowest eval_loss) to outDir/final instead of the last. */
  loadBestModelAtEnd?: boolean;
  /** The metric that picks the best checkpoint: eval_loss (Trainer's default, lower is better). */
  metricForBestModel?: "eval_loss";
  /** Training log lines averaged per trainer_state log_history entry and progress line (default 1). */
  loggingSteps?: number;
  /** Extra logs beside metrics.jsonl (always written): csv writes metrics.csv. */
  reportTo?: "csv"[];
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
  /** Called after every evaluation. */
  onEval?: (metrics: EvalMetrics) => void;
  /**
   * Data-parallel group (@rho1/distributed; the CLI connects to MPI when launched by mpirun or srun). Each of the
   * `size` ranks takes `gradAccum` micro-batches of `batchSize` sequences of every step's batch, which is
   * size × gradAccum × batchSize sequences drawn as one process would; onBatch sees this rank's micro-batches.
   * Rank 0 alone writes checkpoints, metrics, the final model and progress. Default: one process.
   */
  communicator?: Communicator;
}

export interface TrainSummary {
  /** Step the run started from (0, or the resumed checkpoint's). */
  startStep: number;
  /** Steps completed in total. */
  steps: number;
  /** Objective per step run in this call (the selected-token loss; all tokens in plain causal LM). */
  losses: number[];
  /** The last step's metrics, if a step ran. */
  last: StepMetrics | null;
  /** The last evaluation (--eval-data), if any. */
  lastEval: EvalMetrics | null;
  /** Best checkpoint by eval_loss and its loss (--eval-data), else null. */
  bestCheckpoint: string | null;
  bestMetric: number | null;
  /** outDir/final: the final model (the best one with loadBestModelAtEnd), without optimizer state. */
  finalDir: string;
  /** True when the corpus was wrapped into a new epoch at least once. */
  epochs: number;
  /** Set when a resumed run changed the total number of steps (the schedule was recomputed). */
  extendedFrom: number | null;
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
  // Under MPI only rank 0 writes into outDir, so only it takes the lock.
  if ((opts.communicator?.rank ?? 0) !== 0) return trainLocked(opts);
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

/** What a run holds open (packed-text spill files, models, optimizer moments), released however the run ends. */
type Owned = <T>(value: T, release: (value: T) => void) => T;

async function trainLocked(opts: TrainOptions): Promise<TrainSummary> {
  const releases: (() => void)[] = [];
  const own: Owned = (value, release) => {
    releases.push(() => release(value));
    return value;
  };
  try {
    return await trainOwning(opts, own);
  } finally {
    for (const release of releases.reverse()) release();
  }
}

async function trainOwning(opts: TrainOptions, own: Owned): Promise<TrainSummary> {
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
  const comm = opts.communicator ?? SOLO;
  const lead = comm.rank === 0; // the rank that writes
  const lr = positive("lr", opts.lr ?? 1e-4, false, 0);
  const minLr = positive("min-lr", opts.minLr ?? lr / 10, false, 0);
  const clip = positive("clip", opts.clip ?? 1, false, 0);
  const saveEvery = positive("save-every", opts.saveEvery ?? 0, true, 0);
  const seed = positive("seed", opts.seed ?? 0, true, 0);
  const saveTotalLimit = positive("save-total-limit", opts.saveTotalLimit ?? 0, true, 0);
  const loggingSteps = positive("logging-steps", opts.loggingSteps ?? 1, true);
  const evalEvery = positive("eval-every", opts.evalEvery ?? saveEvery, true, 0);
  const evalData = opts.evalData ?? [];
  const reportTo = new Set(opts.reportTo ?? []);
  if (opts.metricForBestModel !== undefined && opts.metricForBestModel !== "eval_loss")
    throw new TrainError(
      `--metric-for-best-model: only eval_loss is logged, found ${opts.metricForBestModel}`,
      "bad_option",
    );
  if (opts.loadBestModelAtEnd && evalData.length === 0)
    throw new TrainError(
      "--load-best-model-at-end needs --eval-data (the best model is the lowest eval_loss)",
      "bad_option",
    );
  if (opts.loadBestModelAtEnd && saveEvery > 0 && evalEvery > 0 && saveEvery % evalEvery !== 0)
    throw new TrainError(
      `--load-best-model-at-end needs --save-every (${saveEvery}) to be a multiple of --eval-every (${evalEvery}), as Trainer does`,
      "bad_option",
    );
  if (opts.resume && opts.resumeFromCheckpoint)
    throw new TrainError("give --resume or --resume-from-checkpoint, not both", "bad_option");
  const optimizerOptions = {
    lr,
    beta1: positive("adam-beta1", opts.beta1 ?? 0.9, false, 0),
    beta2: positive("adam-beta2", opts.beta2 ?? 0.95, false, 0),
    eps: positive("adam-epsilon", opts.eps ?? 1e-8, false, 0),
    weightDecay: opts.weightDecay ?? 0.1,
  };
  if (optimizerOptions.beta1 >= 1 || optimizerOptions.beta2 >= 1)
    throw new TrainError("--adam-beta1 and --adam-beta2 must be below 1", "bad_option");
  if (opts.data.length === 0) throw new TrainError("--data: at least one file is required", "bad_option");
  const decayExclude = [...new Set(opts.weightDecayExclude ?? [])].sort();
  const noDecay = noDecayOf(decayExclude);

  const tokenizer = await loadTokenizer(opts.modelDir);
  const dataFiles = await expandInputs(opts.data);
  let source: SequenceSource;
  if (opts.refScores) {
    const store = ScoreStore.open(opts.refScores, { verify: opts.verifyScores ?? true });
    own(store, (s) => s.close());
    source = await scoredSource(store, opts.refScores, {
      tokenizerHash: tokenizer.hash,
      seqLen: opts.seqLen,
      data: dataFiles,
      textColumn: opts.textColumn,
    });
  } else {
    source = own(
      await packText(
        dataFiles,
        tokenizer,
        positive("seq-len", opts.seqLen ?? defaultSeqLen(readConfig(opts.modelDir)), true, 2),
        opts.textColumn,
        opts.outDir, // the token spill file lives beside the run's outputs, not in a RAM-backed /tmp
      ),
      closeSource,
    );
  }
  const seqLen = source.seqLen;
  if (source.skippedDocuments)
    (opts.progress ?? process.stderr)?.write(
      `rho1 train: skipped ${source.skippedDocuments} documents with an empty or null text\n`,
    );
  const sequencesPerStep = comm.size * gradAccum * batchSize;
  const totalSteps =
    opts.steps !== undefined || opts.epochs === undefined
      ? positive("steps", opts.steps ?? 100, true)
      : Math.max(
          1,
          Math.ceil((positive("epochs", opts.epochs, false, 0) * source.numSequences) / sequencesPerStep),
        );
  const warmup =
    opts.warmup !== undefined || opts.warmupRatio === undefined
      ? positive("warmup", opts.warmup ?? 0, true, 0)
      : Math.ceil(positive("warmup-ratio", opts.warmupRatio, false, 0) * totalSteps);
  const evalSource =
    evalData.length > 0
      ? own(
          await packText(await expandInputs(evalData), tokenizer, seqLen, opts.textColumn, opts.outDir),
          closeSource,
        )
      : null;

  // What must not change across a resume: the data order, the batch shape, the objective and the optimizer.
  // The number of steps may grow (the schedule is recomputed and the run says so).
  const fingerprint: Record<string, unknown> = {
    data: dataFiles.map((p) => basename(p)),
    refScores: opts.refScores ? resolve(opts.refScores) : null,
    refModel: opts.refModelDir ? resolve(opts.refModelDir) : null,
    ratio,
    scope,
    seqLen,
    // Sequences per optimizer step, however split into ranks and micro-batches: a run resumes on another number of
    // ranks (the same batches; sums in another order).
    batchSequences: sequencesPerStep,
    seed,
    shuffle: opts.shuffle ?? true,
    clip,
    ...optimizerOptions,
    minLr,
    // only when set, so checkpoints written before the option existed still resume
    ...(decayExclude.length > 0 ? { weightDecayExclude: decayExclude } : {}),
  };
  const schedule = { lr, minLr, warmup, total: totalSteps };

  mkdirSync(opts.outDir, { recursive: true });
  const metricsLog = new MetricsLog(join(opts.outDir, "metrics.jsonl"));
  const notice = (line: string) => (opts.progress ?? process.stderr)?.write(`${line}\n`);
  const curvesPath = join(opts.outDir, "loss-curves.html");
  const latest = latestCheckpoint(opts.outDir);
  if (latest && !opts.resume && !opts.resumeFromCheckpoint) {
    throw new TrainError(
      `--out ${opts.outDir} already holds ${basename(latest)}: pass --resume (or --resume-from-checkpoint PATH) or choose another --out`,
      "out_not_empty",
    );
  }
  const resumeFrom = opts.resumeFromCheckpoint ?? (opts.resume ? latest : null);
  if (opts.resumeFromCheckpoint && !existsSync(opts.resumeFromCheckpoint))
    throw new TrainError(
      `--resume-from-checkpoint ${opts.resumeFromCheckpoint}: no such folder`,
      "bad_checkpoint",
    );

  const model = own(await CausalLM.load(resumeFrom ?? opts.modelDir), dispose);
  const progress = opts.progress === null || !lead ? null : new ProgressLine(opts.progress ?? process.stderr);
  if (seqLen > model.config.maxPositionEmbeddings) {
    progress?.note(
      `rho1 train: warning: --seq-len ${seqLen} exceeds the model's max_position_embeddings ${model.config.maxPositionEmbeddings}; positions beyond it were never trained`,
    );
  }
  const reference = opts.refModelDir ? own(await CausalLM.load(opts.refModelDir), dispose) : undefined;
  if (reference && reference.config.vocabSize !== model.config.vocabSize) {
    throw new TrainError(
      `--ref-model vocabulary ${reference.config.vocabSize} differs from the model's ${model.config.vocabSize}`,
      "bad_option",
    );
  }
  const optimizer = own(new AdamW(model.variables, { ...optimizerOptions, noDecay }), dispose);
  const sampler = new Sampler(source.numSequences, seed, opts.shuffle ?? true);
  let step = 0;
  let tokens = 0;
  let selectedTokens = 0;
  let history: MetricsLine[] = [];
  let logHistory: LogEntry[] = [];
  let best: { metric: number; step: number; checkpoint: string | null } | null = null;
  let baseModel = resolve(opts.modelDir);
  let extendedFrom: number | null = null;
  const notices: string[] = [];
  if (resumeFrom) {
    const { state, trainerState, optimizer: moments } = readCheckpointState(resumeFrom);
    const saved = { ...state.fingerprint };
    if (saved.batchSequences === undefined && typeof saved.batchSize === "number") {
      saved.batchSequences = saved.batchSize * ((saved.gradAccum as number | undefined) ?? 1); // single-process runs
    }
    for (const [key, value] of Object.entries(fingerprint)) {
      if (JSON.stringify(saved[key]) !== JSON.stringify(value)) {
        throw new TrainError(
          `resuming from ${basename(resumeFrom)}: ${key} was ${JSON.stringify(saved[key])}, now ${JSON.stringify(value)}`,
          "resume_mismatch",
        );
      }
    }
    if (state.step >= totalSteps) {
      throw new TrainError(
        `resuming from ${basename(resumeFrom)}: it is at step ${state.step}, --steps ${totalSteps} leaves nothing to do (raise --steps to extend the run)`,
        "resume_mismatch",
      );
    }
    if (state.schedule.total !== totalSteps || state.schedule.warmup !== warmup) {
      extendedFrom = state.schedule.total;
      notices.push(
        `steps ${state.schedule.total} -> ${totalSteps}: the learning-rate schedule is recomputed (warm-up ${warmup}, cosine to ${minLr} at step ${totalSteps}); from step ${state.step + 1} the rate follows it`,
      );
    }
    optimizer.loadState(moments);
    sampler.restore(state.data);
    ({ step, tokens, selectedTokens, baseModel } = state);
    history = lead ? metricsLog.restore(step, notice) : [];
    logHistory = trainerState.log_history.filter((e) => e.step <= step);
    if (trainerState.best_metric !== null && trainerState.best_global_step !== null)
      best = {
        metric: trainerState.best_metric,
        step: trainerState.best_global_step,
        checkpoint: trainerState.best_model_checkpoint,
      };
    // Checkpoints after the one resumed from belong to the abandoned continuation.
    for (const name of lead ? readdirSafe(opts.outDir) : []) {
      const m = /^checkpoint-(\d+)$/.exec(name);
      if (m && Number(m[1]) > step) rmSync(join(opts.outDir, name), { recursive: true, force: true });
    }
  } else if (lead) metricsLog.reset();

  for (const notice of notices) progress?.note(`rho1 train: ${notice}`);
  const slm = ratio < 1;
  const title = `rho1 train: ${basename(resolve(opts.modelDir))}, ${slm ? `SLM ratio ${ratio} (${scope})` : "causal LM"}`;
  const startStep = step;
  let lastCheckpoint = resumeFrom ?? "";
  let lastMetrics: StepMetrics | null = null;
  let lastEval: EvalMetrics | null = null;
  const losses: number[] = [];
  let smoothedStepSeconds = 0;
  let runTokens = 0;
  let pendingLog: StepMetrics[] = [];
  const epochOf = () => {
    const at = sampler.save();
    return Number((at.epoch + at.index / source.numSequences).toFixed(4));
  };
  const numTrainEpochs = Math.ceil((totalSteps * sequencesPerStep) / source.numSequences);

  const trainerState = (): HfTrainerState => ({
    best_global_step: best?.step ?? null,
    best_metric: best?.metric ?? null,
    best_model_checkpoint: best?.checkpoint ?? null,
    epoch: epochOf(),
    eval_steps: evalSource ? evalEvery || null : null,
    global_step: step,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: logHistory,
    logging_steps: loggingSteps,
    max_steps: totalSteps,
    num_input_tokens_seen: tokens,
    num_train_epochs: numTrainEpochs,
    save_steps: saveEvery || null,
    stateful_callbacks: {},
    total_flos: 0,
    train_batch_size: batchSize,
    trial_name: null,
    trial_params: null,
  });

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

  const evaluate = async () => {
    if (!evalSource) return;
    const t0 = performance.now();
    const { loss, tokens: evalTokens } = await meanLoss(model, evalSource);
    const line: EvalMetrics = {
      step,
      epoch: epochOf(),
      eval_loss: loss,
      eval_tokens: evalTokens,
      eval_seconds: (performance.now() - t0) / 1000,
    };
    if (lead) metricsLog.append(line);
    history.push(line);
    logHistory.push({ epoch: line.epoch as number, eval_loss: loss, eval_tokens: evalTokens, step });
    lastEval = line;
    if (best === null || loss < best.metric) best = { metric: loss, step, checkpoint: null };
    opts.onEval?.(line);
    progress?.note(
      `step ${step}/${totalSteps}  eval_loss ${loss.toFixed(4)} (${evalTokens} held-out tokens)${best.step === step ? "  best so far" : ""}`,
    );
  };

  try {
    while (step < totalSteps) {
      const t0 = performance.now();
      const stepLr = cosineSchedule(step, schedule);
      const epochBefore = sampler.save().epoch;
      // Every rank draws the whole batch (the sampler stays in step everywhere) and reads only its own slice.
      const drawn = Array.from({ length: comm.size * gradAccum }, () => sampler.next(batchSize));
      const micro = drawn.slice(comm.rank * gradAccum, (comm.rank + 1) * gradAccum).map(makeMicroBatch);
      let result: Awaited<ReturnType<typeof batchGradients>>;
      try {
        result = await batchGradients(model, micro, {
          ratio,
          scope,
          referenceModel: reference,
          communicator: comm,
        });
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
      if (clip > 0) ({ grads, norm } = await clipGradNormAsync(grads, clip));
      else norm = (await clipGradNormAsync(grads, Number.POSITIVE_INFINITY)).norm;
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
      const stepTokens = sequencesPerStep * seqLen;
      runTokens += stepTokens;
      smoothedStepSeconds = smoothedStepSeconds === 0 ? seconds : 0.8 * smoothedStepSeconds + 0.2 * seconds;
      // Plain causal LM has no selection: its lines carry no selected / unselected fields.
      const metrics: StepMetrics = {
        step,
        epoch: epochOf(),
        lr: stepLr,
        loss: result.stats.lossAll,
        ...(slm && {
          loss_selected: result.stats.lossSelected,
          loss_unselected: Number.isFinite(result.stats.lossUnselected) ? result.stats.lossUnselected : null,
        }),
        tokens,
        ...(slm && { selected_tokens: selectedTokens }),
        tokens_per_s: stepTokens / seconds,
        grad_norm: norm,
        ...(hasRef && {
          excess_loss: Number.isFinite(result.stats.meanExcess) ? result.stats.meanExcess : null,
        }),
      };
      if (lead) metricsLog.append(metrics);
      history.push(metrics);
      lastMetrics = metrics;
      opts.onStep?.(metrics);
      const epochAfter = sampler.save().epoch;
      if (epochAfter > epochBefore) {
        progress?.note(
          `rho1 train: epoch ${epochBefore + 1} done during step ${step} (${source.numSequences} sequences); epoch ${epochAfter + 1} reads them in a new order`,
        );
      }
      pendingLog.push(metrics);
      if (step % loggingSteps === 0 || step === totalSteps) {
        const mean = (pick: (m: StepMetrics) => number | null | undefined) => {
          const v = pendingLog.map(pick).filter((x): x is number => typeof x === "number");
          return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
        };
        const entry: LogEntry = {
          epoch: metrics.epoch as number,
          grad_norm: norm,
          learning_rate: stepLr,
          loss: mean((m) => m.loss),
          num_input_tokens_seen: tokens,
          step,
        };
        if (slm) {
          entry.loss_selected = mean((m) => m.loss_selected);
          entry.loss_unselected = mean((m) => m.loss_unselected);
        }
        logHistory.push(entry);
        pendingLog = [];
        progress?.update(
          `step ${step}/${totalSteps}  loss ${metrics.loss.toFixed(4)}${slm ? `  selected ${(metrics.loss_selected as number).toFixed(4)}` : ""}  ` +
            `lr ${stepLr.toExponential(2)}  ${Math.round(metrics.tokens_per_s)} tok/s  ETA ${formatEta((totalSteps - step) * smoothedStepSeconds)}`,
        );
      }
      if (evalSource && ((evalEvery > 0 && step % evalEvery === 0) || step === totalSteps)) await evaluate();
      if (lead && ((saveEvery > 0 && step % saveEvery === 0) || step === totalSteps)) {
        const checkpointDir = join(opts.outDir, checkpointName(step));
        if (best?.step === step) best.checkpoint = checkpointDir;
        const state: Rho1State = {
          format: "rho1-train-state",
          version: 2,
          step,
          fingerprint,
          schedule,
          data: sampler.save(),
          tokens,
          selectedTokens,
          baseModel,
        };
        metricsLog.sync();
        lastCheckpoint = await saveCheckpoint(
          opts.outDir,
          model,
          await optimizer.stateAsync(),
          state,
          trainerState(),
          opts.modelDir,
        );
        if (saveTotalLimit > 0) rotateCheckpoints(opts.outDir, saveTotalLimit, best?.checkpoint ?? null);
        writeLossCurves(curvesPath, history, title);
        if (reportTo.has("csv")) writeMetricsCsv(join(opts.outDir, "metrics.csv"), history);
      }
    }
    // The final model: the last weights, or the best checkpoint's with loadBestModelAtEnd (rank 0 writes it).
    if (lead) await saveFinalModel();
  } finally {
    progress?.done();
  }
  async function saveFinalModel() {
    const finalDir = join(opts.outDir, "final");
    const tmp = join(opts.outDir, `.tmp-final-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    const bestDir = best?.checkpoint;
    if (opts.loadBestModelAtEnd && bestDir && bestDir !== lastCheckpoint && existsSync(bestDir)) {
      const bestModel = await CausalLM.load(bestDir);
      try {
        await bestModel.save(tmp, { dtype: "F32", tokenizerDir: opts.modelDir });
      } finally {
        bestModel.dispose();
      }
      progress?.note(
        `rho1 train: final model = ${basename(bestDir)} (best eval_loss ${best?.metric.toFixed(4)})`,
      );
    } else await model.save(tmp, { dtype: "F32", tokenizerDir: opts.modelDir });
    replaceDir(tmp, finalDir);
  }
  if (lead && !existsSync(curvesPath)) writeLossCurves(curvesPath, history, title);
  const seconds = (performance.now() - started) / 1000;
  const bestFinal = best as { metric: number; step: number; checkpoint: string | null } | null;
  return {
    startStep,
    steps: step,
    losses,
    last: lastMetrics,
    lastEval,
    bestCheckpoint: bestFinal?.checkpoint ?? null,
    bestMetric: bestFinal?.metric ?? null,
    finalDir: join(opts.outDir, "final"),
    epochs: sampler.save().epoch,
    extendedFrom,
    tokens,
    selectedTokens,
    checkpoint: lastCheckpoint || join(opts.outDir, checkpointName(step)),
    seconds,
    tokensPerSecond: runTokens / seconds,
  };
}

const closeSource = (source: SequenceSource) => source.close?.();
const dispose = (value: { dispose(): void }) => value.dispose();

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
