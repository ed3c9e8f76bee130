/** Train a reference model: the base model, plain causal LM on clean target-distribution text (`rho1 train`). */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { train } from "@rho1/train";
import { fastBackend } from "./lib/backend.ts";
import { BASE_MODEL, CLEAN, ensureCorpus, OUT, SEQ_LEN } from "./lib/example-inputs.ts";

await fastBackend();
await ensureCorpus(); // runs/examples/corpus/clean.jsonl: 200 clean GSM8K documents ({"text": ...} per line)
const outDir = join(OUT, "reference-04");
rmSync(outDir, { recursive: true, force: true }); // train refuses to overwrite a run unless resume: true

const summary = await train({
  modelDir: BASE_MODEL, // any Hugging Face Llama/Mistral folder
  data: [CLEAN], // JSON lines or parquet, files or folders
  outDir,
  seqLen: SEQ_LEN,
  batchSize: 8,
  steps: 20,
  lr: 2e-3, // peak; cosine decay to lr/10
  warmup: 2,
  seed: 0,
  saveEvery: 10,
});
console.log(
  `loss ${summary.losses[0].toFixed(3)} → ${summary.losses.at(-1)?.toFixed(3)} over ${summary.steps} steps`,
);
console.log(`${summary.tokens} tokens at ${Math.round(summary.tokensPerSecond)} tokens/s`);
console.log(`reference model (a Hugging Face folder): ${summary.checkpoint}`);
console.log(`metrics: ${join(outDir, "metrics.jsonl")}, curves: ${join(outDir, "loss-curves.html")}`);
