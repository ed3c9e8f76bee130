/** Evaluate a model: held-out loss on clean math text, then the Rho-1 math harness (`rho1 eval`) on 3 GSM8K items. */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EVAL_DATA_DIR, evaluate, modelGenerator } from "@rho1/math-eval";
import { loadTokenizer } from "@rho1/tokenizer";
import { checkpointName, meanLoss, packText } from "@rho1/train";
import { CausalLM } from "@rho1/transformer";
import { fastBackend } from "./lib/backend.ts";
import { readCleanJsonl, textJsonl } from "./lib/clean-text.ts";
import { BASE_MODEL, OUT, ROOT } from "./lib/example-inputs.ts";

const slm = join(OUT, "slm-05", checkpointName(20)); // written by 05-slm-train.ts
const dir = process.argv[2] ?? (existsSync(slm) ? slm : BASE_MODEL);
await fastBackend();
const [model, tokenizer] = await Promise.all([CausalLM.load(dir), loadTokenizer(dir)]);

// Held-out loss: mean token cross-entropy over 30 MATH solutions, packed like training data.
const heldOut = join(OUT, "heldout-math.jsonl");
const docs = readCleanJsonl(join(ROOT, "data/corpus/clean/math_train.sample.jsonl"), 30);
writeFileSync(heldOut, textJsonl(docs));
const { loss, tokens } = await meanLoss(model, await packText([heldOut], tokenizer, 128));
console.log(`${dir}: held-out loss ${loss.toFixed(4)} nats/token over ${tokens} tokens`);

// Few-shot chain-of-thought GSM8K as the Rho-1 harness does it (greedy, its stop strings, extraction, grading).
const summary = await evaluate({
  tasks: ["gsm8k"],
  dataDir: EVAL_DATA_DIR, // the full test sets (@rho1/math-eval-data); the default, shown here for clarity
  outDir: join(OUT, "eval-06"),
  generator: modelGenerator(model, tokenizer, { maxNewTokens: 32 }), // the harness allows 1024
  limit: 3,
});
console.log(summary.table);
console.log(`samples: ${join(OUT, "eval-06/gsm8k/samples.jsonl")}`);
model.dispose();
