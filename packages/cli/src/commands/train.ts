import { type TrainOptions, train, WEIGHT_DECAY_GROUPS } from "@rho1/train";
import { setupBackend } from "@rho1/transformer";
import { type Command, numberOption, parseCommandArgs, requireOption, UsageError } from "../command.ts";

const USAGE = `rho1 train --model DIR --data PATH... --out DIR [options]

Continues pretraining a Hugging Face Llama/Mistral folder. Without a reference it is plain causal-LM training
(which is also how the reference model is trained: step 1 of Rho-1). With --ref-scores (a store written by
\`rho1 score\` from the same --data) or --ref-model it is Selective Language Modeling: only the top
--select-ratio of tokens by excess loss (model loss - reference loss) are trained on.

  --model DIR           model to train (Hugging Face folder with tokenizer)
  --data PATH           .jsonl ({"text": ...}) / .parquet file or folder of them (repeatable)
  --out DIR             checkpoints (checkpoint-NNNNNN/: HF folder + optimizer + trainer state),
                        metrics.jsonl and loss-curves.html
  --ref-scores DIR      precomputed reference losses (rho1 score); must match --data, tokenizer and --seq-len
  --no-verify           skip checking --ref-scores units against their sha256 before training (sizes are
                        still checked); for stores on trusted storage
  --ref-model DIR       score each batch with this reference model instead (one extra forward per batch)
  --select-ratio R      fraction of tokens trained on, in (0, 1] (default 0.6 with a reference, else 1)
  --select-scope S      batch (rank over the whole batch, the paper; default) | sequence (per row)
  --text-column NAME    text field / column (default text)
  --seq-len N           sequence length (default: the score store's, else the model's
                        max_position_embeddings, at most 2048)
  --batch-size N        sequences per micro-batch (default 8)
  --grad-accum N        micro-batches per optimizer step (default 1)
  --lr X                peak learning rate (default 1e-4)
  --min-lr X            final learning rate of the cosine schedule (default lr/10)
  --warmup N            linear warm-up steps (default 0)
  --steps N             optimizer steps (default 100)
  --weight-decay X      AdamW decoupled weight decay (default 0.1); betas 0.9/0.95, eps 1e-8. By default
                        every parameter decays, as plain torch.optim.AdamW(model.parameters()) does
  --weight-decay-exclude LIST
                        parameter groups without weight decay, comma-separated: norms (RMSNorm weights),
                        embeddings (embed_tokens), bias. Hugging Face's Trainer excludes norms,bias
  --clip X              global gradient-norm clip (default 1; 0 = off)
  --seed S              data order seed (default 0)
  --save-every N        checkpoint every N steps (default: only at the end)
  --resume              continue from the latest checkpoint in --out (same losses and weights as an
                        uninterrupted run; starts fresh when --out has none)

Progress (step, loss, selected-token loss, tokens/s, ETA) goes to stderr. A NaN/Inf loss stops the run and
names the step and batch; the last checkpoint is left intact.
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

export const command: Command = {
  name: "train",
  summary: "train a model: plain causal LM or Selective Language Modeling (top-k% tokens by excess loss)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: "string" },
      data: { type: "string", multiple: true },
      out: { type: "string" },
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
      steps: { type: "string" },
      "weight-decay": { type: "string" },
      "weight-decay-exclude": { type: "string" },
      clip: { type: "string" },
      seed: { type: "string" },
      "save-every": { type: "string" },
      resume: { type: "boolean" },
      "no-verify": { type: "boolean" },
    });
    const modelDir = requireOption(values, "model");
    const outDir = requireOption(values, "out");
    const data = values.data ?? [];
    if (data.length === 0) throw new UsageError("missing required option --data");
    const refScores = values["ref-scores"];
    const refModelDir = values["ref-model"];
    if (refScores && refModelDir) throw new UsageError("give --ref-scores or --ref-model, not both");
    const hasRef = Boolean(refScores || refModelDir);
    const selectRatio = numberOption(values, "select-ratio", hasRef ? 0.6 : 1, {
      min: Number.MIN_VALUE,
      max: 1,
    });
    if (selectRatio < 1 && !hasRef)
      throw new UsageError("--select-ratio below 1 needs --ref-scores or --ref-model");
    const scope = values["select-scope"] ?? "batch";
    if (scope !== "batch" && scope !== "sequence") {
      throw new UsageError(`--select-scope expects batch or sequence, found ${JSON.stringify(scope)}`);
    }
    const lr = numberOption(values, "lr", 1e-4, { min: 0 });
    const int = { integer: true, min: 1 };
    const options: TrainOptions = {
      modelDir,
      data,
      outDir,
      refScores,
      refModelDir,
      selectRatio,
      selectScope: scope,
      textColumn: values["text-column"],
      seqLen:
        values["seq-len"] === undefined
          ? undefined
          : numberOption(values, "seq-len", 0, { integer: true, min: 2 }),
      batchSize: numberOption(values, "batch-size", 8, int),
      gradAccum: numberOption(values, "grad-accum", 1, int),
      lr,
      minLr: numberOption(values, "min-lr", lr / 10, { min: 0 }),
      warmup: numberOption(values, "warmup", 0, { integer: true, min: 0 }),
      steps: numberOption(values, "steps", 100, int),
      weightDecay: numberOption(values, "weight-decay", 0.1, { min: 0 }),
      weightDecayExclude: weightDecayExcludeOption(values["weight-decay-exclude"]),
      clip: numberOption(values, "clip", 1, { min: 0 }),
      seed: numberOption(values, "seed", 0, { integer: true, min: 0, max: 2 ** 32 - 1 }),
      saveEvery: numberOption(values, "save-every", 0, { integer: true, min: 0 }),
      resume: values.resume ?? false,
      verifyScores: !values["no-verify"],
    };
    await setupBackend();
    const summary = await train(options);
    const loss = summary.losses.at(-1);
    process.stderr.write(
      `rho1 train: ${summary.steps} steps (from ${summary.startStep}), final loss ${loss === undefined ? "-" : loss.toFixed(4)}, ` +
        `${summary.selectedTokens} of ${summary.tokens} tokens selected, ${Math.round(summary.tokensPerSecond)} tokens/s; ` +
        `checkpoint ${summary.checkpoint}\n`,
    );
    return 0;
  },
};
