import {
  type DocumentScoreBy,
  hashModelDir,
  ScoreStore,
  scoreCorpus,
  selectDocuments,
} from "@rho1/reference-scorer";
import { loadTokenizer } from "@rho1/tokenizer";
import { setupBackend } from "@rho1/transformer";
import { type Command, numberOption, parseCommandArgs, requireOption, UsageError } from "../command.ts";

const USAGE = `usage: rho1 select --scores DIR (--model DIR | --model-scores DIR) (--ratio R | --threshold X) --out FILE.parquet [options]

Document-level selection: keeps whole documents by excess loss (the training model's loss minus the reference
model's), the data-level counterpart of SLM's token selection. Writes the kept documents as parquet, their columns
as they were (url, text, date, metadata for OpenWebMath), plus rho1_excess (mean excess over the document's
tokens), rho1_tokens (its scored tokens) and rho1_selected_fraction (the share of its tokens that token-level
SLM at --token-ratio over the whole corpus would keep).

  --scores DIR          score store of the reference model (\`rho1 score\`)
  --model DIR           the training model (e.g. the base you will continue pretraining): its losses are scored
                        over the same corpus into --model-scores-out first (resumable; reused when rerun)
  --model-scores DIR    or: a store of the training model's losses made by \`rho1 score\` on the same data
  --model-scores-out DIR  where --model's store goes (default: FILE.parquet.model-scores)
  --ratio R             keep the top R of the scored documents, R in (0, 1]
  --threshold X         or: keep documents whose score is >= X
  --by mean|sum|fraction-selected   a document's score (default mean)
  --token-ratio R       token-level selection ratio behind fraction-selected (default 0.6, the paper's)
  --batch-size N        rows per forward pass when scoring --model (default 8)
  --out FILE.parquet    the output (written to a temp name, renamed when complete)

Self-reference: the store may be scored by the base model itself (no separately trained reference); then pass as
--model a model trained from that base on target data, and excess = how much that training moved each token's
loss. With --model equal to the store's own model every excess is exactly 0 (said as a warning).
`;

const BY: DocumentScoreBy[] = ["mean", "sum", "fraction-selected"];

export const command: Command = {
  name: "select",
  summary: "document-level selection by excess loss: keep whole documents, write them as parquet",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      scores: { type: "string" },
      model: { type: "string" },
      "model-scores": { type: "string" },
      "model-scores-out": { type: "string" },
      ratio: { type: "string" },
      threshold: { type: "string" },
      by: { type: "string" },
      "token-ratio": { type: "string" },
      "batch-size": { type: "string" },
      out: { type: "string" },
    });
    const scores = requireOption(values, "scores");
    const out = requireOption(values, "out");
    if ((values.model === undefined) === (values["model-scores"] === undefined)) {
      throw new UsageError("give exactly one of --model and --model-scores");
    }
    if ((values.ratio === undefined) === (values.threshold === undefined)) {
      throw new UsageError("give exactly one of --ratio and --threshold");
    }
    const ratio =
      values.ratio === undefined
        ? undefined
        : numberOption(values, "ratio", 0, { min: Number.MIN_VALUE, max: 1 });
    const threshold = values.threshold === undefined ? undefined : numberOption(values, "threshold", 0);
    const tokenRatio = numberOption(values, "token-ratio", 0.6, { min: Number.MIN_VALUE, max: 1 });
    const batchSize = numberOption(values, "batch-size", 8, { integer: true, min: 1 });
    const by = (values.by ?? "mean") as DocumentScoreBy;
    if (!BY.includes(by))
      throw new UsageError(`--by expects ${BY.join(", ")}, found ${JSON.stringify(values.by)}`);

    let modelScores = values["model-scores"] as string | undefined;
    if (values.model !== undefined) {
      const modelDir = values.model as string;
      const store = ScoreStore.open(scores);
      const { manifest } = store;
      const tokenizer = await loadTokenizer(modelDir);
      if (tokenizer.hash !== manifest.tokenizer.hash) {
        throw new UsageError(
          `--model ${modelDir} has another tokenizer than the store ${scores} (sha256 ${tokenizer.hash.slice(0, 12)}… vs ${manifest.tokenizer.hash.slice(0, 12)}…)`,
        );
      }
      if ((await hashModelDir(modelDir)) === manifest.model.hash) {
        process.stderr.write(
          `rho1 select: warning: --model ${modelDir} is the model that scored ${scores}: every excess is 0\n`,
        );
      }
      modelScores = (values["model-scores-out"] as string | undefined) ?? `${out}.model-scores`;
      process.stderr.write(`rho1 select: scoring the corpus with ${modelDir} into ${modelScores}\n`);
      await setupBackend();
      await scoreCorpus({
        modelDir,
        data: manifest.sources.map((s) => s.path),
        outDir: modelScores,
        seqLen: manifest.seqLen,
        batchSize,
        textColumn: manifest.textColumn,
        jsonlUnitBytes: manifest.jsonlUnitBytes,
      });
    }
    const summary = await selectDocuments({
      scoresDir: scores,
      modelScoresDir: modelScores as string,
      out,
      ratio,
      threshold,
      by,
      tokenRatio,
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  },
};
