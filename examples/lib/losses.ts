/**
 * Per-token losses of a model over packed sequences, in batches: the held-out loss of the demo and the experiment
 * (mean CE over valid target tokens) and per-token loss vectors (heat-maps, token categories).
 */
import type { SequenceSource } from "@rho1/train";
import { type CausalLM, tf } from "@rho1/transformer";

/** ce[i] = CE of predicting ids[t+1] for every row i (length seqLen − 1; padding positions hold 0). */
export function sequenceLosses(model: CausalLM, rows: Int32Array[], batchSize = 16): Float32Array[] {
  const out: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const T = batch[0].length;
    const ids = new Int32Array(batch.length * T);
    batch.forEach((r, b) => {
      if (r.length !== T) throw new RangeError(`row ${start + b}: expected ${T} ids, found ${r.length}`);
      ids.set(r, b * T);
    });
    const input = tf.tensor2d(ids, [batch.length, T], "int32");
    const ce = tf.tidy(() => model.tokenLosses(input as tf.Tensor2D).ce);
    const values = ce.dataSync() as Float32Array;
    input.dispose();
    ce.dispose();
    for (let b = 0; b < batch.length; b++) out.push(values.slice(b * (T - 1), (b + 1) * (T - 1)));
  }
  return out;
}

/** Mean CE over the valid targets of every sequence of `source` (padding excluded), and the number of tokens. */
export function meanLoss(
  model: CausalLM,
  source: SequenceSource,
  batchSize = 16,
): { loss: number; tokens: number } {
  const seqs = Array.from({ length: source.numSequences }, (_, i) => source.sequence(i));
  const ce = sequenceLosses(
    model,
    seqs.map((s) => s.ids),
    batchSize,
  );
  let sum = 0;
  let n = 0;
  seqs.forEach((s, i) => {
    for (let t = 0; t < s.valid.length; t++) {
      if (s.valid[t]) {
        sum += ce[i][t];
        n++;
      }
    }
  });
  if (n === 0) throw new RangeError("meanLoss: the source has no valid target tokens");
  return { loss: sum / n, tokens: n };
}
