import { exportScoresParquet, mergeScores, type ScoreManifest, scoreCorpus } from "@rho1/reference-scorer";
import { readConfig, setupBackend } from "@rho1/transformer";
import { type Command, numberOption, parseCommandArgs, requireOption, UsageError } from "../command.ts";

const USAGE = `rho1 score --model REF_DIR --data PATH... --out DIR [options]
rho1 score merge DIR... [--out DIR]
rho1 score export --scores DIR --format parquet --out FILE.parquet [--row-group-rows N]

Scores every token of a corpus with the reference model (Rho-1 step 2) and writes a score store: packed token
ids, per-token reference losses, and a manifest (see packages/reference-scorer/README.md).

  --model DIR          reference model: Hugging Face folder (config.json, safetensors, tokenizer.json)
  --data PATH...       parquet files (OpenWebMath schema), .jsonl files ({"text": ...}) or directories of
                       them; repeat --data or list several paths after it
  --out DIR            the store; rerun the same command to resume after an interruption
  --seq-len N          tokens per packed row (default: the model's max_position_embeddings, at most 2048)
  --batch-size N       rows per forward pass (default 8)
  --text-column NAME   column / field holding the text (default text)
  --loss-dtype f32|f16 stored loss precision (default f32)
  --shard i/n          score only part i of n (0-based) of the input, cut by file and row group; run one
                       shard per machine, then \`rho1 score merge\` the n stores
  --shard auto         take i/n from the job engine: a Slurm array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT;
                       the array must be 0..n-1) or a Kubernetes indexed Job (JOB_COMPLETION_INDEX, with --shards N)
  --shards N           the shard count for --shard auto: needed on Kubernetes, and on Slurm when one task is
                       resubmitted alone (\`sbatch --array=2\`); examples/slurm, examples/k8s show both
  --tokenizer DIR      tokenizer folder if not the model's

merge: joins shard stores into --out (default: the first DIR), byte-identical to a single-process run.

export: writes the store as parquet any trainer can read, one row per packed sequence (ZSTD):
  input_ids list<int32> [T], ref_loss list<float> [T-1] (ref_loss[t] = reference loss of predicting
  input_ids[t+1], 0 where not valid), valid list<bool> [T-1], source_file string, row_group int32,
  first_doc int64 (the document holding the row's first token). --row-group-rows sets sequences per row group
  (default: about 32 MiB uncompressed).

Progress (documents, tokens, tokens/s, ETA) goes to stderr; a JSON summary line to stdout.
`;

type Shard = { index: number; count: number };

function checkShard(index: number, count: number, found: string): Shard {
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count) {
    throw new UsageError(`--shard expects i/n with 0 <= i < n (e.g. 0/4), found ${found}`);
  }
  return { index, count };
}

/** A non-negative integer environment variable, or undefined when unset; anything else is a UsageError. */
function envInteger(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw))
    throw new UsageError(`--shard auto: ${name} expects an integer, found ${JSON.stringify(raw)}`);
  return Number(raw);
}

/**
 * The shard of this task under `--shard auto`. A Slurm array gives the index and, for an array 0..n-1, the count;
 * `--shards N` fixes the count instead, so one failed task can be resubmitted alone (`sbatch --array=2`). An
 * offset or stepped array without --shards would leave units unscored, so it is refused. A Kubernetes indexed
 * Job gives the index and `--shards N` the count (a Job's completions are not in its pods' environment).
 */
export function shardFromEnvironment(
  env: Record<string, string | undefined>,
  shards: number | undefined,
): Shard {
  const slurmIndex = envInteger(env, "SLURM_ARRAY_TASK_ID");
  if (slurmIndex !== undefined) {
    if (shards !== undefined) {
      return checkShard(slurmIndex, shards, `SLURM_ARRAY_TASK_ID=${slurmIndex} with --shards ${shards}`);
    }
    const count = envInteger(env, "SLURM_ARRAY_TASK_COUNT");
    if (count === undefined) {
      throw new UsageError("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    }
    const min = envInteger(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const max = envInteger(env, "SLURM_ARRAY_TASK_MAX") ?? count - 1;
    const step = envInteger(env, "SLURM_ARRAY_TASK_STEP") ?? 1;
    if (min !== 0 || max !== count - 1 || step !== 1) {
      throw new UsageError(
        `--shard auto: a Slurm array of ${count} tasks must be 0-${count - 1} to give the shard count, found ${min}-${max}:${step}; give --shards N`,
      );
    }
    return checkShard(
      slurmIndex,
      count,
      `SLURM_ARRAY_TASK_ID=${slurmIndex} of SLURM_ARRAY_TASK_COUNT=${count}`,
    );
  }
  const k8sIndex = envInteger(env, "JOB_COMPLETION_INDEX");
  if (k8sIndex !== undefined) {
    if (shards === undefined) {
      throw new UsageError(
        "--shard auto under a Kubernetes indexed Job needs --shards N (the Job's completions)",
      );
    }
    return checkShard(k8sIndex, shards, `JOB_COMPLETION_INDEX=${k8sIndex} with --shards ${shards}`);
  }
  throw new UsageError(
    "--shard auto found no job engine: set by a Slurm array (SLURM_ARRAY_TASK_ID) or a Kubernetes indexed Job (JOB_COMPLETION_INDEX)",
  );
}

function parseShard(raw: unknown, shards: number | undefined): Shard | undefined {
  if (raw === "auto") return shardFromEnvironment(process.env, shards);
  if (shards !== undefined) throw new UsageError("--shards goes with --shard auto");
  if (raw === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(String(raw));
  if (!match)
    throw new UsageError(
      `--shard expects i/n with 0 <= i < n (e.g. 0/4) or auto, found ${JSON.stringify(raw)}`,
    );
  return checkShard(Number(match[1]), Number(match[2]), JSON.stringify(raw));
}

function summary(out: string, m: ScoreManifest): string {
  const c = m.counts;
  return `${JSON.stringify({
    out,
    shard: m.shard ? `${m.shard.index}/${m.shard.count}` : null,
    units: c.units,
    documents: c.documents,
    skippedDocuments: c.skippedDocuments,
    sequences: c.sequences,
    tokens: c.tokens,
    meanLoss: m.stats.meanLoss,
  })}\n`;
}

async function exportStore(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    scores: { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    "row-group-rows": { type: "string" },
  });
  const scores = requireOption(values, "scores");
  const out = requireOption(values, "out");
  const format = values.format ?? "parquet";
  if (format !== "parquet") throw new UsageError(`--format expects parquet, found ${JSON.stringify(format)}`);
  const rowGroupRows =
    values["row-group-rows"] === undefined
      ? undefined
      : numberOption(values, "row-group-rows", 0, { integer: true, min: 1 });
  const summary = await exportScoresParquet(scores, out, { rowGroupRows });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

async function merge(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: "string" } }, true);
  if (positionals.length === 0) throw new UsageError("merge needs at least one store directory");
  const out = typeof values.out === "string" ? values.out : positionals[0];
  const manifest = await mergeScores(positionals, out);
  process.stdout.write(summary(out, manifest));
  return 0;
}

export const command: Command = {
  name: "score",
  summary: "score every corpus token with the reference model (resumable, shardable); score merge / export",
  usage: USAGE,
  async run(argv) {
    if (argv[0] === "merge") return merge(argv.slice(1));
    if (argv[0] === "export") return exportStore(argv.slice(1));
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        model: { type: "string" },
        data: { type: "string", multiple: true },
        out: { type: "string" },
        "seq-len": { type: "string" },
        "batch-size": { type: "string" },
        "text-column": { type: "string" },
        "loss-dtype": { type: "string" },
        shard: { type: "string" },
        shards: { type: "string" },
        tokenizer: { type: "string" },
      },
      true,
    );
    const modelDir = requireOption(values, "model");
    const outDir = requireOption(values, "out");
    const data = [...((values.data as string[] | undefined) ?? []), ...positionals];
    if (data.length === 0) throw new UsageError("missing required option --data");
    const seqLen =
      values["seq-len"] === undefined
        ? undefined
        : numberOption(values, "seq-len", 0, { integer: true, min: 2 });
    const batchSize = numberOption(values, "batch-size", 8, { integer: true, min: 1 });
    const lossDtype = values["loss-dtype"] ?? "f32";
    if (lossDtype !== "f32" && lossDtype !== "f16") {
      throw new UsageError(`--loss-dtype expects f32 or f16, found ${JSON.stringify(lossDtype)}`);
    }
    const shards =
      values.shards === undefined ? undefined : numberOption(values, "shards", 1, { integer: true, min: 1 });
    const shard = parseShard(values.shard, shards);
    try {
      const maxPos = readConfig(modelDir).maxPositionEmbeddings;
      if (seqLen !== undefined && seqLen > maxPos) {
        process.stderr.write(
          `rho1 score: warning: --seq-len ${seqLen} exceeds the model's max_position_embeddings ${maxPos}\n`,
        );
      }
    } catch {
      // A missing or unreadable config is reported by scoreCorpus with its file name.
    }
    await setupBackend();
    const manifest = await scoreCorpus({
      modelDir,
      data,
      outDir,
      seqLen,
      batchSize,
      lossDtype,
      shard,
      textColumn: values["text-column"] as string | undefined,
      tokenizerDir: values.tokenizer as string | undefined,
    });
    process.stdout.write(summary(outDir, manifest));
    return 0;
  },
};
