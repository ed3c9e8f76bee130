/**
 * Greedy decoding throughput with the KV cache (batch 1, a 16-token prompt, 64 new tokens) of @rho1/transformer
 * against PyTorch on the same weights and prompt: the Llama (hidden 256, 4 layers, vocab 32000) and the
 * embedded stories260K. Also checks that both sides produce the same tokens. Prints the ratio last.
 *
 *   bun benchmarks/generate/run.ts [--reps 3] [--prompt 16] [--new 64]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CausalLM } from "../../packages/transformer/src/index.ts";
import { coretype, median, randomIds, runTorch, STORIES, setup, writeBenchModel } from "../forward/common.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    prompt: { type: "string", default: "16" },
    new: { type: "string", default: "64" },
  },
});
const reps = Number(values.reps);
const promptLength = Number(values.prompt);
const newTokens = Number(values.new);

const backend = await setup();
console.log(`backend: ${backend}; OPENBLAS_CORETYPE=${coretype() ?? "(unset)"} for both sides`);

const dir = mkdtempSync(join(tmpdir(), "rho1-bench-generate-"));
const ratios: string[] = [];
try {
  await writeBenchModel(dir);
  for (const [name, path] of [
    ["llama h256 L4 vocab32000", dir],
    ["stories260K", STORIES],
  ] as const) {
    const model = await CausalLM.load(path);
    const prompt = randomIds(1, promptLength, model.config.vocabSize, 7)[0];
    const opts = { maxNewTokens: newTokens, eosTokenId: null };
    model.generate([prompt], { ...opts, maxNewTokens: 4 }); // warm-up
    const times: number[] = [];
    let ids: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      ids = model.generate([prompt], opts)[0].ids;
      times.push((performance.now() - t0) / 1000);
    }
    model.dispose();
    const ours = newTokens / median(times);
    const torch = runTorch(["generate", path, JSON.stringify(prompt), newTokens, reps]);
    const same = JSON.stringify(torch.ids) === JSON.stringify(ids);
    console.log(
      `${name}, prompt ${promptLength}, ${newTokens} new tokens: ours ${ours.toFixed(1)} tokens/s, ` +
        `PyTorch ${torch.torch} ${(torch.tokens_per_s as number).toFixed(1)} tokens/s (threads ${torch.threads}); ` +
        `same tokens: ${same}`,
    );
    ratios.push(`${name} ${(ours / (torch.tokens_per_s as number)).toFixed(2)}x`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`ratio ours/PyTorch greedy decoding tokens/s: ${ratios.join(", ")}`);
