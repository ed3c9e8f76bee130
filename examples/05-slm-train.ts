/** Selective Language Modeling: continue pretraining on the top 60% of tokens by excess loss over the reference. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { train } from "@rho1/train";
import { fastBackend } from "./lib/backend.ts";
import { BASE_MODEL, CORPUS, ensureScores, OUT, SCORES } from "./lib/example-inputs.ts";

await fastBackend();
await ensureScores(); // runs/examples/scores: the corpus scored by the reference model (03-score.ts)
const outDir = join(OUT, "slm-05");
rmSync(outDir, { recursive: true, force: true });

// Each batch: excess = model loss − stored reference loss per token; back-propagate only the top 60% (over the batch).
const summary = await train({
  modelDir: BASE_MODEL,
  data: [CORPUS], // the files that were scored (checked against the store)
  refScores: SCORES, // or refModelDir: a reference model scored on every batch instead
  selectRatio: 0.6,
  selectScope: "batch",
  outDir,
  batchSize: 8, // sequence length comes from the score store
  steps: 20,
  lr: 2e-3,
  seed: 0,
});
const share = summary.selectedTokens / summary.tokens;
console.log(
  `${summary.tokens} tokens seen, ${summary.selectedTokens} trained on (${(100 * share).toFixed(1)}%)`,
);
console.log(`objective ${summary.losses[0].toFixed(3)} → ${summary.losses.at(-1)?.toFixed(3)}`);
console.log(`model: ${summary.checkpoint}`);
console.log(`per-step loss of all / selected / unselected tokens: ${join(outDir, "metrics.jsonl")}`);
