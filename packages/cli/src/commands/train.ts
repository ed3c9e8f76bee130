import { basename, join } from "node:path";
import { communicatorFromEnvironment } from "@rho1/distributed";
import { writeFileAtomic } from "@rho1/io";
import { type TrainOptions, train, WEIGHT_DECAY_GROUPS } from "@rho1/train";
import { setupBackend } from "@rho1/transformer";
import {
  type Aliases,
  type Command,
  numberOption,
  parseCommandArgs,
  readRunConfig,
  requireOption,
  UsageError,
} from "../command.ts";

const USAGE = `rho1 train --model DIR --data PATH... --out DIR [options]
rho1 train --config run.json|run.yaml [options]

Continues pretraining a Hugging Face Llama/Mistral folder. Without a reference it is plain causal-LM training
(which is also how the reference model is trained: step 1 of Rho-1). With --ref-scores (a store written by
\`rho1 score\` from the same --data) or --ref-model it is Selective Language Modeling: only the top
--select-ratio of tokens by excess loss (model loss - reference loss) are trained on.

Options may be written with - or _ (--seq_len) and transformers Trainer's names are accepted for rho1's (in
brackets). --config reads them from a JSON or YAML object ({"model": ..., "data": [...], "seq_len": 128,
"learning_rate": 1e-3, "max_steps": 12}); options on the command line override it. The effective options are
saved to --out/args.json: \`rho1 train --config OUT/args.json --out OTHER\` runs the same again.

  --model DIR           model to train (Hugging Face folder with tokenizer) [model-name-or-path]
  --data PATH           .jsonl ({"text": ...}) / .parquet file or folder of them (repeatable)
  --out DIR             checkpoint-N/ (HF folder + optimizer.safetensors + trainer_state.json + rho1_state.json),
                        final/ (the final model), metrics.jsonl, loss-curves.html, args.json [output-dir]
  --config FILE         options from a JSON / YAML file
  --ref-scores DIR      precomputed reference losses (rho1 score); must match --data, tokenizer and --seq-len
  --no-verify           skip checking --ref-scores units against their sha256 before training (sizes are
                        still checked); for stores on trusted storage
  --ref-model DIR       score each batch with this reference model instead (one extra forward per batch)
  --select-ratio R      fraction of tokens trained on, in (0, 1] (default 0.6 with a reference, else 1)
  --select-scope S      batch (rank over the whole batch, the paper; default) | sequence (per row)
  --text-column NAME    text field / column (default text)
  --seq-len N           sequence length (default: the score store's, else the model's
                        max_position_embeddings, at most 2048) [max-seq-length]
  --batch-size N        sequences per micro-batch (default 8) [per-device-train-batch-size]
  --grad-accum N        micro-batches per optimizer step (default 1) [gradient-accumulation-steps]
  --lr X                peak learning rate (default 1e-4) [learning-rate]
  --min-lr X            final learning rate of the cosine schedule (default lr/10)
  --warmup N            linear warm-up steps (default 0) [warmup-steps]
  --warmup-ratio X      warm-up as a fraction of the steps, rounded up (when --warmup is not given)
  --steps N             optimizer steps (default 100) [max-steps]
  --epochs X            passes over the data instead of --steps (may be fractional) [num-train-epochs]
  --weight-decay X      AdamW decoupled weight decay (default 0.1). By default every parameter decays, as
                        plain torch.optim.AdamW(model.parameters()) does
  --weight-decay-exclude LIST
                        parameter groups without weight decay, comma-separated: norms (RMSNorm weights),
                        embeddings (embed_tokens), bias. Hugging Face's Trainer excludes norms,bias
  --adam-beta1 X        AdamW beta1 (default 0.9)
  --adam-beta2 X        AdamW beta2 (default 0.95)
  --adam-epsilon X      AdamW epsilon (default 1e-8)
  --clip X              global gradient-norm clip (default 1; 0 = off) [max-grad-norm]
  --seed S              data order seed (default 0)
  --logging-steps N     progress line and trainer_state log_history entry every N steps (default 1)
  --report-to LIST      extra logs beside metrics.jsonl: csv (metrics.csv); none (default)
  --eval-data PATH      held-out .jsonl / .parquet (repeatable): its mean token loss is logged as eval_loss
  --eval-every N        evaluate every N steps (default: at every checkpoint and at the end) [eval-steps]
  --save-every N        checkpoint every N steps (default: only at the end) [save-steps]
  --save-total-limit N  keep at most N checkpoints (oldest deleted; the best and the newest stay)
  --load-best-model-at-end
                        final/ gets the best checkpoint's weights (lowest eval_loss; needs --eval-data)
  --metric-for-best-model NAME
                        eval_loss (the only one; lower is better)
  --resume              continue from the latest checkpoint in --out (same losses and weights as an
                        uninterrupted run); a larger --steps extends the run (the schedule is recomputed)
  --resume-from-checkpoint DIR
                        continue from this checkpoint instead; later ones in --out are replaced

Progress (step, loss, selected-token loss, tokens/s, ETA) goes to stderr. A NaN/Inf loss stops the run and
names the step and batch; the last checkpoint is left intact. metrics.jsonl has one line per step (plain causal
LM runs have no selection fields) and one per evaluation (eval_loss); each checkpoint's trainer_state.json follows
transformers Trainer's schema (global_step, log_history, best_metric, best_model_checkpoint). TensorBoard event
files are not written: no maintained npm package writes them without TensorFlow's native library.

Data-parallel: launched by mpirun or srun (Open MPI, MPICH or PMIx), every rank trains on its slice of each
step's batch of ranks x --grad-accum x --batch-size sequences, with selection, loss and statistics over the whole
batch and one gradient all-reduce per step; rank 0 writes. Same weights as one process with --grad-accum
multiplied by the number of ranks. See docs/scale-out.md.
  mpirun -np 4 rho1 train ...       srun --mpi=pmix -n 4 rho1 train ...
`;

function weightDecayExcludeOption(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const groups = raw
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");
  for (const g of groups)
    if (!(WEIGHT_DECAY_GROUPS as readonly string[]).includes(g))
      throw new UsageError(
        `--weight-decay-exclude expects a comma-separated subset of ${WEIGHT_DECAY_GROUPS.join(",")}, found ${JSON.stringify(g)}`,
      );
  return groups;
}

const OPTIONS = {
  model: { type: "string" },
  data: { type: "string", multiple: true },
  out: { type: "string" },
  config: { type: "string" },
  "ref-scores": { type: "string" },
  "ref-model": { type: "string" },
  "select-ratio": { type: "string" },
  "select-scope": { type: "string" },
  "text-column": { type: "string" },
  "seq-len": { type: "string" },
  "batch-size": { type: "string" },
  "grad-accum": { type: "string" },
  lr: { type: "string" },
  "min-lr": { type: "string" },
  warmup: { type: "string" },
  "warmup-ratio": { type: "string" },
  steps: { type: "string" },
  epochs: { type: "string" },
  "weight-decay": { type: "string" },
  "weight-decay-exclude": { type: "string" },
  "adam-beta1": { type: "string" },
  "adam-beta2": { type: "string" },
  "adam-epsilon": { type: "string" },
  clip: { type: "string" },
  seed: { type: "string" },
  "logging-steps": { type: "string" },
  "report-to": { type: "string" },
  "eval-data": { type: "string", multiple: true },
  "eval-every": { type: "string" },
  "save-every": { type: "string" },
  "save-total-limit": { type: "string" },
  "load-best-model-at-end": { type: "boolean" },
  "metric-for-best-model": { type: "string" },
  resume: { type: "boolean" },
  "resume-from-checkpoint": { type: "string" },
  "no-verify": { type: "boolean" },
} as const;

/** transformers TrainingArguments / TRL names -> rho1's. */
export const TRAINER_ALIASES: Aliases = {
  "model-name-or-path": "model",
  "output-dir": "out",
  "learning-rate": "lr",
  "max-steps": "steps",
  "num-train-epochs": "epochs",
  "warmup-steps": "warmup",
  "per-device-train-batch-size": "batch-size",
  "gradient-accumulation-steps": "grad-accum",
  "max-grad-norm": "clip",
  "max-seq-length": "seq-len",
  "eval-steps": "eval-every",
  "save-steps": "save-every",
};

/** Options that start a run rather than describe it: not saved to args.json. */
const NOT_SAVED = new Set(["config", "resume", "resume-from-checkpoint", "no-verify", "help"]);

export const command: Command = {
  name: "train",
  summary: "train a model: plain causal LM or Selective Language Modeling (top-k% tokens by excess loss)",
  usage: USAGE,
  async run(argv) {
    const { values: cli } = parseCommandArgs(argv, OPTIONS, false, TRAINER_ALIASES);
    const fromFile =
      typeof cli.config === "string" ? readRunConfig(cli.config, OPTIONS, TRAINER_ALIASES) : {};
    const values = { ...fromFile, ...cli } as Record<string, unknown>;
    const modelDir = requireOption(values, "model");
    const outDir = requireOption(values, "out");
    const data = (values.data as string[] | undefined) ?? [];
    if (data.length === 0) throw new UsageError("missing required option --data");
    const refScores = values["ref-scores"] as string | undefined;
    const refModelDir = values["ref-model"] as string | undefined;
    if (refScores && refModelDir) throw new UsageError("give --ref-scores or --ref-model, not both");
    const hasRef = Boolean(refScores || refModelDir);
    const selectRatio = numberOption(values, "select-ratio", hasRef ? 0.6 : 1, {
      min: Number.MIN_VALUE,
      max: 1,
    });
    if (selectRatio < 1 && !hasRef)
      throw new UsageError("--select-ratio below 1 needs --ref-scores or --ref-model");
    const scope = (values["select-scope"] as string | undefined) ?? "batch";
    if (scope !== "batch" && scope !== "sequence") {
      throw new UsageError(`--select-scope expects batch or sequence, found ${JSON.stringify(scope)}`);
    }
    const reportTo = ((values["report-to"] as string | undefined) ?? "none")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "" && s !== "none" && s !== "jsonl");
    for (const r of reportTo) {
      if (r === "tensorboard")
        throw new UsageError(
          "--report-to tensorboard is not available: no maintained npm package writes TensorBoard event files without TensorFlow's native library; use csv",
        );
      if (r !== "csv")
        throw new UsageError(`--report-to expects jsonl, csv or none, found ${JSON.stringify(r)}`);
    }
    const metric = values["metric-for-best-model"] as string | undefined;
    if (metric !== undefined && metric !== "eval_loss" && metric !== "loss")
      throw new UsageError(`--metric-for-best-model expects eval_loss, found ${JSON.stringify(metric)}`);
    if (values["load-best-model-at-end"] && !values["eval-data"])
      throw new UsageError(
        "--load-best-model-at-end needs --eval-data (the best model is the lowest eval_loss)",
      );
    if (values.resume && values["resume-from-checkpoint"])
      throw new UsageError("give --resume or --resume-from-checkpoint, not both");
    const lr = numberOption(values, "lr", 1e-4, { min: 0 });
    const int = { integer: true, min: 1 };
    const optional = (name: string, check: Parameters<typeof numberOption>[3]) =>
      values[name] === undefined ? undefined : numberOption(values, name, 0, check);
    const options: TrainOptions = {
      modelDir,
      data,
      outDir,
      refScores,
      refModelDir,
      selectRatio,
      selectScope: scope,
      textColumn: values["text-column"] as string | undefined,
      seqLen: optional("seq-len", { integer: true, min: 2 }),
      batchSize: numberOption(values, "batch-size", 8, int),
      gradAccum: numberOption(values, "grad-accum", 1, int),
      lr,
      minLr: numberOption(values, "min-lr", lr / 10, { min: 0 }),
      warmup: optional("warmup", { integer: true, min: 0 }),
      warmupRatio: optional("warmup-ratio", { min: 0, max: 1 }),
      steps: optional("steps", int),
      epochs: optional("epochs", { min: Number.MIN_VALUE }),
      weightDecay: numberOption(values, "weight-decay", 0.1, { min: 0 }),
      weightDecayExclude: weightDecayExcludeOption(values["weight-decay-exclude"] as string | undefined),
      beta1: numberOption(values, "adam-beta1", 0.9, { min: 0, max: 0.999999 }),
      beta2: numberOption(values, "adam-beta2", 0.95, { min: 0, max: 0.999999 }),
      eps: numberOption(values, "adam-epsilon", 1e-8, { min: 0 }),
      clip: numberOption(values, "clip", 1, { min: 0 }),
      seed: numberOption(values, "seed", 0, { integer: true, min: 0, max: 2 ** 32 - 1 }),
      loggingSteps: numberOption(values, "logging-steps", 1, int),
      reportTo: reportTo as "csv"[],
      evalData: values["eval-data"] as string[] | undefined,
      evalEvery: optional("eval-every", { integer: true, min: 0 }),
      saveEvery: numberOption(values, "save-every", 0, { integer: true, min: 0 }),
      saveTotalLimit: numberOption(values, "save-total-limit", 0, { integer: true, min: 0 }),
      loadBestModelAtEnd: Boolean(values["load-best-model-at-end"]),
      metricForBestModel: metric === undefined ? undefined : "eval_loss",
      resume: Boolean(values.resume),
      resumeFromCheckpoint: values["resume-from-checkpoint"] as string | undefined,
      verifyScores: !values["no-verify"],
    };
    if (options.steps === undefined && options.epochs === undefined) options.steps = 100;
    // The effective options, as a config file that reproduces the run.
    const effective: Record<string, unknown> = {};
    for (const name of Object.keys(OPTIONS)) {
      const value = values[name];
      if (value === undefined || NOT_SAVED.has(name)) continue;
      const spec = OPTIONS[name as keyof typeof OPTIONS];
      effective[name] =
        spec.type === "boolean" || Array.isArray(value) || Number.isNaN(Number(value)) || value === ""
          ? value
          : Number(value);
    }
    // Defaults resolved, so that the file still reproduces the run if a default changes.
    Object.assign(effective, {
      "select-ratio": selectRatio,
      "select-scope": scope,
      "batch-size": options.batchSize,
      "grad-accum": options.gradAccum,
      lr,
      "min-lr": options.minLr,
      "weight-decay": options.weightDecay,
      "adam-beta1": options.beta1,
      "adam-beta2": options.beta2,
      "adam-epsilon": options.eps,
      clip: options.clip,
      seed: options.seed,
      ...(options.steps !== undefined && { steps: options.steps }),
    });
    // Written once the run has started (its first step), so that a run refused at start leaves nothing behind.
    let argsWritten = false;
    const writeArgs = () => {
      if (argsWritten) return;
      writeFileAtomic(join(outDir, "args.json"), `${JSON.stringify(effective, null, 2)}\n`);
      argsWritten = true;
    };
    options.onStep = writeArgs;
    await setupBackend();

    const communicator = await communicatorFromEnvironment();
    const summary = await train({ ...options, communicator });
    communicator.finalize();
    if (communicator.rank !== 0) return 0;
    const last = summary.last;
    const parts = [
      `rho1 train: ${summary.steps} steps (from ${summary.startStep})${communicator.size > 1 ? ` on ${communicator.size} ranks` : ""}`,
    ];
    if (last) {
      parts.push(
        `last step: loss ${last.loss.toFixed(4)} (all tokens)${last.loss_selected === undefined ? "" : `, selected-token loss ${last.loss_selected.toFixed(4)}`}`,
      );
    }
    if (summary.lastEval) {
      parts.push(
        `eval_loss ${summary.lastEval.eval_loss.toFixed(4)}${summary.bestCheckpoint ? ` (best ${(summary.bestMetric as number).toFixed(4)}, ${basename(summary.bestCheckpoint)})` : ""}`,
      );
    }
    parts.push(
      selectRatio < 1
        ? `${summary.selectedTokens} of ${summary.tokens} tokens selected`
        : `${summary.tokens} tokens`,
    );
    parts.push(`${Math.round(summary.tokensPerSecond)} tokens/s`);
    process.stderr.write(
      `${parts.join("; ")}\nrho1 train: checkpoint ${summary.checkpoint}; final model ${summary.finalDir}\n`,
    );
    return 0;
  },
};
