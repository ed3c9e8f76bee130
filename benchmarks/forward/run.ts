/**
 * Scoring throughput (forward + per-token cross-entropy read back to the host, no gradient) of @rho1/transformer
 * against a plain-PyTorch Llama on the same weights and the same ids, in the same run: the Llama (hidden
 * 256, 4 layers, 4 heads, 2 KV heads, FFN 688, vocab 32000; random weights saved as an HF folder) and the embedded
 * stories260K, at batch 8 x 256. Ours runs with @rho1/tfjs-native's kernels and without them (RHO1_NATIVE=0), each
 * in a fresh process. Correctness: max |Δlogit| between ours and PyTorch on a 2 x 64 check batch. Ratio last.
 *
 * PyTorch and ours alternate for --rounds rounds (the machine is shared and noisy); the table has medians. The stock
 * cpu path is ~100x slower, so it runs in the first round only and scores only the first --cpu-batch rows, once.
 *
 *   bun benchmarks/forward/run.ts [--rounds 2] [--reps 3] [--batch 8] [--seq 256] [--cpu-reps 1] [--cpu-batch 1] [--no-cpu]
 *                                 [--models bench,stories]
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
import { timeScoring, writeCheckLogits } from "../lib/ours.ts";

interface ChildSpec {
  model: string;
  scoreIds: number[][];
  checkIds: number[][];
  checkOut: string;
  reps: number;
  /** Warm up on the full batch (true) or on a 1 x 16 slice (the slow stock cpu path). */
  fullWarmup: boolean;
}
interface ChildResult {
  backend: string;
  tokens_per_s: number;
  times_s: number[];
  mean_loss: number;
}

const values = benchArgs(
  {
    ...ROUND_OPTIONS,
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "256" },
    "cpu-batch": { type: "string", default: "1" },
  },
  {
    usage:
      "Scoring tokens/s (forward + per-token cross-entropy, no gradient) of @rho1/transformer, native kernels on and off; anchor: a plain-PyTorch Llama on the same weights and ids, same run.",
    describe: {
      ...ROUND_DESCRIBE,
      batch: "sequences per batch",
      seq: "tokens per sequence",
      "cpu-batch": "rows the stock cpu path scores",
    },
  },
);

if (values.child) {
  const spec = JSON.parse(readFileSync(values.child, "utf8")) as ChildSpec;
  const backend = await setupOurs();
  const model = await CausalLM.load(spec.model);
  writeCheckLogits(model, spec.checkIds, spec.checkOut);
  const small = spec.scoreIds.slice(0, 1).map((row) => row.slice(0, 16));
  const r = timeScoring(model, spec.scoreIds, spec.reps, spec.fullWarmup ? spec.scoreIds : small);
  model.dispose();
  console.log(JSON.stringify({ backend, ...r } satisfies ChildResult));
} else {
  await main();
}

async function main() {
  const reps = Number(values.reps);
  const rounds = Number(values.rounds);
  const [batch, seq] = [Number(values.batch), Number(values.seq)];
  console.log(describeMachine());
  const tmp = mkdtempSync(join(tmpdir(), "rho1-bench-forward-"));
  const rows: string[] = [];
  const ratios: string[] = [];
  try {
    const models = await benchModels(values.models ?? "", tmp);
    for (const [name, dir] of models) {
      const vocab = readConfig(dir).vocabSize;
      const scoreIds = randomIds(batch, seq, vocab, 1);
      const checkIds = randomIds(2, 64, vocab, 2);
      const torchLogits = join(tmp, "torch-logits.bin");
      // Rounds alternate PyTorch and ours so that the shared machine's load hits both alike; medians are reported.
      const torchTps: number[] = [];
      const ours = new Map<string, { tps: number[]; maxAbs: number; shape: string }>();
      for (let round = 0; round < rounds; round++) {
        const torch = runAnchor({
          model: dir,
          check: { ids: checkIds, out: torchLogits },
          score: { ids: scoreIds, reps },
        });
        const ref = readFloat32File(torchLogits);
        torchTps.push(torch.score?.tokens_per_s ?? Number.NaN);
        console.log(
          `${name}, ${batch}x${seq}, round ${round + 1}: PyTorch ${torch.torch} ${fmt(torchTps[round])} tokens/s ` +
            `(mean loss ${torch.score?.mean_loss.toFixed(4)}, threads ${torch.threads})`,
        );
        for (const variant of VARIANTS) {
          const slow = variant.name === "cpu";
          if (slow && (values["no-cpu"] || round > 0)) continue; // the stock path is measured once
          const specPath = join(tmp, "spec.json");
          const checkOut = join(tmp, "ours-logits.bin");
          const ids = slow ? scoreIds.slice(0, Number(values["cpu-batch"])) : scoreIds;
          const spec: ChildSpec = {
            model: dir,
            scoreIds: ids,
            checkIds,
            checkOut,
            reps: slow ? Number(values["cpu-reps"]) : reps,
            fullWarmup: !slow,
          };
          await Bun.write(specPath, JSON.stringify(spec));
          const r = runChild<ChildResult>(import.meta.path, ["--child", specPath], variant.env);
          const diff = compareLogits(readFloat32File(checkOut), ref);
          const shape = `${ids.length}x${seq}`;
          console.log(
            `${name}, ${shape}, round ${round + 1}: ours [${r.backend}] ${fmt(r.tokens_per_s)} tokens/s ` +
              `(mean loss ${r.mean_loss.toFixed(4)}); max |Δlogit| vs PyTorch ${diff.maxAbs.toExponential(2)} ` +
              `(rel ${diff.rel.toExponential(2)}); ratio ${(r.tokens_per_s / torchTps[round]).toFixed(2)}x`,
          );
          const entry = ours.get(variant.name) ?? { tps: [], maxAbs: 0, shape };
          entry.tps.push(r.tokens_per_s);
          entry.maxAbs = Math.max(entry.maxAbs, diff.maxAbs);
          ours.set(variant.name, entry);
        }
      }
      const torchMedian = median(torchTps);
      for (const [variant, { tps, maxAbs, shape }] of ours) {
        const ratio = median(tps) / torchMedian;
        rows.push(
          `| scoring ${shape.replace("x", "×")} | ${name} | ${variant} | ${fmt(median(tps))} | ${fmt(torchMedian)} | ` +
            `${ratio.toFixed(2)}× | ${maxAbs.toExponential(1)} |`,
        );
        ratios.push(`${name} ${variant} ${ratio.toFixed(2)}x`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  printTable(
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    rows,
    `ratio ours/PyTorch scoring tokens/s: ${ratios.join(", ")}`,
  );
}
