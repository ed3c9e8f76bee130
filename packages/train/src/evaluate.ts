/**
 * Held-out loss: mean cross-entropy over the valid targets of packed sequences (padding excluded), the quantity
 * Trainer logs as `eval_loss`. Used by `train --eval-data` and by the demo and experiment.
 */
import { type ReferenceModel, referenceLossesAsync } from "@rho1/selective-loss";
import { tf } from "@rho1/transformer";
import type { SequenceSource } from "./data.ts";

/** ce[i] = CE of predicting ids[t+1] for every row i (length seqLen − 1; padding positions hold 0). */
export async function sequenceLosses(
  model: ReferenceModel,
  rows: Int32Array[],
  batchSize = 16,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const T = (batch[0] as Int32Array).length;
    const ids = new Int32Array(batch.length * T);
    batch.forEach((r, b) => {
      if (r.length !== T) throw new RangeError(`row ${start + b}: expected ${T} ids, found ${r.length}`);
      ids.set(r, b * T);
    });
    const input = tf.tensor2d(ids, [batch.length, T], "int32");
    let values: Float32Array;
    try {
      values = await referenceLossesAsync(model, input);
    } finally {
      input.dispose();
    }
    for (let b = 0; b < batch.length; b++) out.push(values.slice(b * (T - 1), (b + 1) * (T - 1)));
  }
  return out;
}

/** Mean CE over the valid targets of every sequence of `source`, summed in float64, and the number of tokens. */
export async function meanLoss(
  model: ReferenceModel,
  source: SequenceSource,
  batchSize = 16,
): Promise<{ loss: number; tokens: number }> {
  let sum = 0;
  let n = 0;
  for (let start = 0; start < source.numSequences; start += batchSize) {
    const seqs = Array.from({ length: Math.min(batchSize, source.numSequences - start) }, (_, i) =>
      source.sequence(start + i),
    );
    const ce = await sequenceLosses(
      model,
      seqs.map((s) => s.ids),
      batchSize,
    );
    seqs.forEach((s, i) => {
      const row = ce[i] as Float32Array;
      for (let t = 0; t < s.valid.length; t++) {
        if (s.valid[t]) {
          sum += row[t] as number;
          n++;
        }
      }
    });
  }
  if (n === 0) throw new RangeError("meanLoss: the source has no valid target tokens");
  return { loss: sum / n, tokens: n };
}
