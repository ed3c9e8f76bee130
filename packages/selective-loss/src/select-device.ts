import * as tf from "@tensorflow/tfjs-core";
import { SelectiveLossError } from "./errors.ts";
import { checkRatio, type SelectionScope, selectionCount } from "./select.ts";

/**
 * selectTokens as tensor ops: the same 0/1 mask, bit for bit, for a backend that cannot read the device synchronously
 * (WebGPU), so that the taped CE is ranked where it lies and a training step needs only its taped forward pass.
 * Each ranked row's k-th largest key (tf.topk) is its threshold; every valid key above it is kept, and of the valid keys
 * equal to it the first k − #above in index order. That is select.ts's total order (value, then the lower index), NaN
 * ranking with +∞ at the top; `valid` is host data (ids and masks start on the host), so each row's k is known without
 * a read. Keys are kept finite (±∞ → ±float32 max, NaN → the max, padding → the min): tfjs-backend-cpu's topk compares
 * by subtraction, and ∞ − ∞ is NaN, which corrupts its partition. Only a valid excess of exactly ±3.4028235e38 could
 * then rank differently from select.ts, tied with the infinities; losses never come near it.
 *   PyTorch:  key = torch.where(valid, excess.nan_to_num(nan=MAX, posinf=MAX, neginf=-MAX), -MAX).view(rows, -1)
 *             t = key.topk(int(k.max()), -1).values.gather(-1, (k - 1).clamp(min=0)[:, None])
 *             above, tie = (key > t) & valid, (key == t) & valid
 *             mask = above | (tie & (tie.cumsum(-1) <= k[:, None] - above.sum(-1, keepdim=True)))
 */
const FLOAT32_MAX = 3.4028234663852886e38;

export function selectTokensOnDevice(
  excess: tf.Tensor,
  valid: Float32Array,
  batch: number,
  time: number,
  ratio: number,
  scope: SelectionScope,
): tf.Tensor2D {
  checkRatio(ratio);
  const n = batch * time;
  if (excess.size !== n)
    throw new SelectiveLossError("excess", `${n} values (${batch}×${time})`, `${excess.size}`);
  if (valid.length !== n)
    throw new SelectiveLossError("valid", `length ${n} (${batch}×${time})`, `${valid.length}`);
  if (scope !== "batch" && scope !== "sequence") {
    throw new SelectiveLossError("scope", '"batch" or "sequence"', JSON.stringify(scope));
  }
  const rows = scope === "batch" ? 1 : batch;
  const width = n / rows;
  // The tie ranks below are float32 counts, exact up to 2^24 per ranked row.
  if (width >= 2 ** 24)
    throw new SelectiveLossError("excess", `fewer than 2^24 tokens per ranked ${scope}`, `${width}`);
  const counts = new Int32Array(rows);
  let everyValid = true;
  for (let r = 0; r < rows; r++) {
    let nValid = 0;
    for (let i = r * width; i < (r + 1) * width; i++) if (valid[i] !== 0) nValid++;
    counts[r] = selectionCount(ratio, nValid);
    if (counts[r] < nValid) everyValid = false;
  }
  const validMask = tf.tensor2d(
    Float32Array.from(valid, (v) => (v !== 0 ? 1 : 0)),
    [batch, time],
    "float32",
  );
  if (everyValid) return validMask; // ratio 1, or rows too short to drop a token: select.ts keeps every candidate
  return tf.tidy(() => {
    const isValid = tf.notEqual(tf.reshape(validMask, [rows, width]), 0);
    validMask.dispose();
    const flat = tf.reshape(excess, [rows, width]);
    const top = tf.fill([rows, width], FLOAT32_MAX);
    const key = tf.where(
      isValid,
      tf.where(tf.isNaN(flat), top, tf.clipByValue(flat, -FLOAT32_MAX, FLOAT32_MAX)),
      tf.neg(top),
    );
    const kMax = Math.max(...counts);
    const kth = tf.tensor2d(
      Array.from(counts, (k) => Math.max(k - 1, 0)),
      [rows, 1],
      "int32",
    );
    const threshold = tf.gather(tf.topk(key, kMax, true).values, kth, 1, 1); // [rows, 1]
    const above = tf.logicalAnd(tf.greater(key, threshold), isValid);
    const tie = tf.logicalAnd(tf.equal(key, threshold), isValid);
    // Float counts are exact below 2^24 per row; rows with no valid token have neither above nor tie.
    const need = tf.sub(
      tf.tensor2d(counts, [rows, 1], "float32"),
      tf.sum(tf.cast(above, "float32"), 1, true),
    );
    const tieRank = tf.cumsum(tf.cast(tie, "float32"), 1);
    const keep = tf.logicalOr(above, tf.logicalAnd(tie, tf.lessEqual(tieRank, need)));
    return tf.reshape(tf.cast(keep, "float32"), [batch, time]) as tf.Tensor2D;
  });
}
