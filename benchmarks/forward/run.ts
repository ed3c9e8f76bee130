/**
 * Scoring throughput (forward + per-token cross-entropy, no gradient) of @rho1/transformer against PyTorch on the same
 * weights: the Llama (hidden 256, 4 layers, 4/2 heads, FFN 688, vocab 32000) at batch 8 x 256, and the
 * embedded stories260K. Prints tokens/s for both and the ratio last.
 *
 *   bun benchmarks/forward/run.ts [--reps 3] [--batch 8] [--seq 256]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CausalLM, tf } from "../../packages/transformer/src/index.ts";
import { coretype, median, randomIds, runTorch, STORIES, setup, writeBenchModel } from "./common.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "256" },
  },
});
const reps = Number(values.reps);
const [batch, seq] = [Number(values.batch), Number(values.seq)];

const backend = await setup();
console.log(`backend: ${backend}; OPENBLAS_CORETYPE=${coretype() ?? "(unset)"} for both sides`);

async function score(dir: string) {
  const model = await CausalLM.load(dir);
  const ids = tf.tensor2d(randomIds(batch, seq, model.config.vocabSize), undefined, "int32");
  const run = () =>
    tf.tidy(() => {
      const { ce, valid } = model.tokenLosses(ids);
      return tf.sum(ce).dataSync()[0] / tf.sum(valid).dataSync()[0];
    });
  const meanLoss = run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push((performance.now() - t0) / 1000);
  }
  ids.dispose();
  model.dispose();
  return { tokensPerS: (batch * seq) / median(times), meanLoss };
}

const dir = mkdtempSync(join(tmpdir(), "rho1-bench-forward-"));
const ratios: string[] = [];
try {
  await writeBenchModel(dir);
  for (const [name, path] of [
    ["llama h256 L4 vocab32000", dir],
    ["stories260K", STORIES],
  ] as const) {
    const ours = await score(path);
    const torch = runTorch(["score", path, batch, seq, reps]);
    const ratio = ours.tokensPerS / (torch.tokens_per_s as number);
    console.log(
      `${name}, batch ${batch}x${seq}: ours ${ours.tokensPerS.toFixed(0)} tokens/s (mean loss ${ours.meanLoss.toFixed(3)}), ` +
        `PyTorch ${torch.torch} ${(torch.tokens_per_s as number).toFixed(0)} tokens/s (threads ${torch.threads}, mean loss ${(torch.mean_loss as number).toFixed(3)})`,
    );
    ratios.push(`${name} ${ratio.toFixed(2)}x`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`ratio ours/PyTorch scoring tokens/s: ${ratios.join(", ")}`);
