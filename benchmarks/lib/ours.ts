/** Our side of the model benchmarks, run inside a child process after setupOurs(): the same work the anchor times. */
import { writeFileSync } from "node:fs";
import { type CausalLM, tf } from "@rho1/transformer";
import { median, timeIt } from "./anchor.ts";

/** Writes float32 logits [B,T,V] of ids to path (raw little-endian, like the anchor's "check" output). */
export function writeCheckLogits(model: CausalLM, ids: number[][], path: string): void {
  const logits = tf.tidy(() => model.logits(tf.tensor2d(ids, undefined, "int32")));
  const data = logits.dataSync() as Float32Array;
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  logits.dispose();
}

/**
 * Scoring as the reference scorer does it: forward + per-token cross-entropy [B,T-1], read back to the host.
 * Returns tokens/s (median), the times and the mean loss over valid tokens.
 */
export function timeScoring(
  model: CausalLM,
  ids: number[][],
  reps: number,
  warmupIds: number[][] | null = ids,
): { tokens_per_s: number; times_s: number[]; mean_loss: number } {
  const input = tf.tensor2d(ids, undefined, "int32");
  let meanLoss = Number.NaN;
  const score = (x: tf.Tensor2D) => {
    const { ce, valid } = model.tokenLosses(x);
    const c = ce.dataSync();
    const v = valid.dataSync();
    let sum = 0;
    let n = 0;
    for (let i = 0; i < c.length; i++) {
      sum += c[i] * v[i];
      n += v[i];
    }
    ce.dispose();
    valid.dispose();
    return sum / n;
  };
  if (warmupIds && warmupIds !== ids) {
    const w = tf.tensor2d(warmupIds, undefined, "int32");
    score(w);
    w.dispose();
  }
  const times = timeIt(
    () => {
      meanLoss = score(input);
    },
    reps,
    warmupIds === ids ? 1 : 0,
  );
  input.dispose();
  const tokens = ids.length * ids[0].length;
  return { tokens_per_s: tokens / median(times), times_s: times, mean_loss: meanLoss };
}

/** Greedy decoding with the KV cache, batch 1, EOS ignored: tokens/s (median over reps) and the ids. */
export function timeGreedy(
  model: CausalLM,
  prompt: number[],
  newTokens: number,
  reps: number,
): { tokens_per_s: number; times_s: number[]; ids: number[] } {
  model.generate([prompt], { maxNewTokens: 4, eosTokenId: null }); // warm-up
  let ids: number[] = [];
  const times = timeIt(
    () => {
      ids = model.generate([prompt], { maxNewTokens: newTokens, eosTokenId: null })[0].ids;
    },
    reps,
    0,
  );
  return { tokens_per_s: newTokens / median(times), times_s: times, ids };
}
