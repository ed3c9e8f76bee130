/** Load a Hugging Face checkpoint and generate: greedy, then sampled (bun examples/01-generate.ts [model dir]). */
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM } from "@rho1/transformer";
import { fastBackend } from "./lib/backend.ts";
import { BASE_MODEL } from "./lib/example-inputs.ts";

const dir = process.argv[2] ?? BASE_MODEL;
await fastBackend();
const [model, tokenizer] = await Promise.all([CausalLM.load(dir), loadTokenizer(dir)]);
const { hiddenSize, numLayers, vocabSize } = model.config;
console.log(`${dir}: ${numLayers} layers, hidden ${hiddenSize}, vocab ${vocabSize}`);

const prompts = ["Once upon a time", "Lily had 3 apples and"];
const ids = prompts.map((p) => tokenizer.encode(p)); // with BOS, as the tokenizer config says
const greedy = model.generate(ids, { maxNewTokens: 40, temperature: 0 });
const sampled = model.generate(ids, { maxNewTokens: 40, temperature: 0.8, topP: 0.9, seed: 42 });
// Decode prompt and continuation together: SentencePiece drops a leading space when decoding a fragment alone.
const text = (i: number, r: { ids: number[] }) =>
  tokenizer.decode([...ids[i], ...r.ids], { skipSpecialTokens: true });
prompts.forEach((_, i) => {
  console.log(`\n[greedy]  ${text(i, greedy[i])}  (${greedy[i].finishReason})`);
  console.log(`[sampled] ${text(i, sampled[i])}  (${sampled[i].finishReason})`);
});
model.dispose();
