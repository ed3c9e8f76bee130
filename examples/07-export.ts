/** Export a trained checkpoint as a Hugging Face folder (bf16 here), reload it and compare its logits. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkpointName } from "@rho1/train";
import { CausalLM, tf } from "@rho1/transformer";
import { fastBackend } from "./lib/backend.ts";
import { BASE_MODEL, OUT } from "./lib/example-inputs.ts";

const slm = join(OUT, "slm-05", checkpointName(20)); // written by 05-slm-train.ts
const from = process.argv[2] ?? (existsSync(slm) ? slm : BASE_MODEL);
const to = join(OUT, "export-07");
await fastBackend();

const model = await CausalLM.load(from);
// config.json + model.safetensors (+ tokenizer files): loadable by transformers' from_pretrained.
await model.save(to, { dtype: "BF16", tokenizerDir: BASE_MODEL });
const again = await CausalLM.load(to);

const ids = tf.tensor2d([[1, 403, 407, 261, 378, 430, 395, 263]], [1, 8], "int32");
const a = model.logits(ids);
const b = again.logits(ids);
const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
console.log(`${from} → ${to} (bf16)`);
console.log(`max |logit difference| after the bf16 round trip: ${diff.toFixed(4)}`);
tf.dispose([ids, a, b]);
model.dispose();
again.dispose();
