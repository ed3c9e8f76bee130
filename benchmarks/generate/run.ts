/**
 * Greedy decoding throughput with the KV cache (batch 1, a 64-token prompt, 128 new tokens, EOS ignored) of
 * @rho1/transformer against a plain-PyTorch Llama with a KV cache on the same weights and prompt, in the same run:
 * the Llama (hidden 256, 4 layers, 4/2 heads, FFN 688, vocab 32000; random weights saved as an HF folder)
 * and the embedded stories260K. Ours runs with @rho1/tfjs-native's kernels and without them (RHO1_NATIVE=0), each in
 * a fresh process. Correctness: both sides must produce the same tokens, and max |Δlogit| on the prompt.
 * Tokens/s counts new tokens over the whole call (prefill included), on both sides. PyTorch and ours alternate for
 * --rounds rounds (the machine is shared and noisy; medians in the table); the stock cpu path runs once. Ratio last.
 *
 *   bun benchmarks/generate/run.ts [--rounds 2] [--reps 3] [--prompt 64] [--new 128] [--cpu-reps 1] [--no-cpu]
 *                                  [--models bench,stories]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CausalLM, readConfig } from "@rho1/transformer";
import {
  benchModels,
  compareLogits,
  describeMachine,
  fmt,
  median,
  printTable,
  ROUND_DESCRIBE,
  ROUND_OPTIONS,
  randomIds,
  readFloat32File,
  runAnchor,
  runChild,
  setupOurs,
  VARIANTS,
} from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";
import { timeGreedy, writeCheckLogits } from "../lib/ours.ts";

interface ChildSpec {
  model: string;
  prompt: number[];
  newTokens: number;
  reps: number;
  checkOut: string;
}
interface ChildResult {
  backend: string;
  tokens_per_s: number;
  times_s: number[];
  ids: number[];
}

const values = benchArgs(
  {
    ...ROUND_OPTIONS,
    prompt: { type: "string", default: "64" },
    new: { type: "string", default: "128" },
  },
  {
    usage:
      "Greedy decoding tokens/s with the KV cache (batch 1) of @rho1/transformer, native kernels on and off; anchor: a plain-PyTorch Llama with a KV cache on the same weights and prompt, same run.",
    describe: { ...ROUND_DESCRIBE, prompt: "prompt tokens", new: "new tokens generated (EOS ignored)" },
  },
);

if (values.child) {
  const spec = JSON.parse(readFileSync(values.child, "utf8")) as ChildSpec;
  const backend = await setupOurs();
  const model = await CausalLM.load(spec.model);
  writeCheckLogits(model, [spec.prompt], spec.checkOut);
  const r = timeGreedy(model, spec.prompt, spec.newTokens, spec.reps);
  model.dispose();
  console.log(JSON.stringify({ backend, ...r } satisfies ChildResult));
} else {
  await main();
}

async function main() {
  const reps = Number(values.reps);
  const rounds = Number(values.rounds);
  const [promptLength, newTokens] = [Number(values.prompt), Number(values.new)];
  console.log(describeMachine());
  const tmp = mkdtempSync(join(tmpdir(), "rho1-bench-generate-"));
  const rows: string[] = [];
  const ratios: string[] = [];
  try {
    const models = await benchModels(values.models ?? "", tmp);
    for (const [name, dir] of models) {
      const vocab = readConfig(dir).vocabSize;
      const prompt = randomIds(1, promptLength, vocab, 7)[0];
      const torchLogits = join(tmp, "torch-logits.bin");
      const label = `${name}, prompt ${promptLength} + ${newTokens} new`;
      // Rounds alternate PyTorch and ours so that the shared machine's load hits both alike; medians are reported.
      const torchTps: number[] = [];
      const ours = new Map<string, { tps: number[]; maxAbs: number; same: boolean }>();
      for (let round = 0; round < rounds; round++) {
        const torch = runAnchor({
          model: dir,
          check: { ids: [prompt], out: torchLogits },
          generate: { prompt, new_tokens: newTokens, reps },
        });
        const ref = readFloat32File(torchLogits);
        torchTps.push(torch.generate?.tokens_per_s ?? Number.NaN);
        console.log(
          `${label}, round ${round + 1}: PyTorch ${torch.torch} ${fmt(torchTps[round], 1)} tokens/s (threads ${torch.threads})`,
        );
        for (const variant of VARIANTS) {
          const slow = variant.name === "cpu";
          if (slow && (values["no-cpu"] || round > 0)) continue; // the stock path is measured once
          const specPath = join(tmp, "spec.json");
          const checkOut = join(tmp, "ours-logits.bin");
          const spec: ChildSpec = {
            model: dir,
            prompt,
            newTokens,
            reps: slow ? Number(values["cpu-reps"]) : reps,
            checkOut,
          };
          await Bun.write(specPath, JSON.stringify(spec));
          const r = runChild<ChildResult>(import.meta.path, ["--child", specPath], variant.env);
          const diff = compareLogits(readFloat32File(checkOut), ref);
          const same = JSON.stringify(r.ids) === JSON.stringify(torch.generate?.ids);
          console.log(
            `${label}, round ${round + 1}: ours [${r.backend}] ${fmt(r.tokens_per_s, 1)} tokens/s; ` +
              `same tokens as PyTorch: ${same}; max |Δlogit| on the prompt ${diff.maxAbs.toExponential(2)}; ` +
              `ratio ${(r.tokens_per_s / torchTps[round]).toFixed(2)}x`,
          );
          const entry = ours.get(variant.name) ?? { tps: [], maxAbs: 0, same: true };
          entry.tps.push(r.tokens_per_s);
          entry.maxAbs = Math.max(entry.maxAbs, diff.maxAbs);
          entry.same &&= same;
          ours.set(variant.name, entry);
        }
      }
      const torchMedian = median(torchTps);
      for (const [variant, { tps, maxAbs, same }] of ours) {
        const ratio = median(tps) / torchMedian;
        rows.push(
          `| greedy 1×(${promptLength}+${newTokens}) | ${name} | ${variant} | ${fmt(median(tps), 1)} | ` +
            `${fmt(torchMedian, 1)} | ${ratio.toFixed(2)}× | ${maxAbs.toExponential(1)}, same tokens: ${same ? "yes" : "NO"} |`,
        );
        ratios.push(`${name} ${variant} ${ratio.toFixed(2)}x`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  printTable(
    "| --- | --- | --- | ---: | ---: | ---: | --- |",
    rows,
    `ratio ours/PyTorch greedy decoding tokens/s: ${ratios.join(", ")}`,
  );
}
