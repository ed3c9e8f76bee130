import * as tf from "@tensorflow/tfjs-core";
import { SelectiveLossError } from "./errors.ts";

/** Rows per chunk of the vocabulary-wide temporaries: about 4 MB of float32 whatever V is. */
const chunkRows = (vocab: number) => Math.max(1, Math.floor((1 << 20) / vocab));

/** Row ranges [start, size) covering n rows. */
function chunks(n: number, vocab: number): [number, number][] {
  const step = chunkRows(vocab);
  const out: [number, number][] = [];
  for (let r = 0; r < n; r += step) out.push([r, Math.min(step, n - r)]);
  return out;
}

/**
 * ce[r] = logsumexp(x[r]) − x[r, y[r]] for logits x [N, V] and int32 labels y [N], with its gradient
 * dx = (softmax(x) − onehot(y)) · dy; a label outside [0, V) (e.g. −1 or −100 for "no target") gives 0 and no
 * gradient. Neither direction builds a one-hot over the vocabulary: the label's logit is a gather from the flattened
 * logits, and vocabulary-wide temporaries (x − max, exp) exist one chunk of rows at a time, so the forward pass needs
 * only a few [N] vectors beyond the logits. This is the composite behind @rho1/transformer's CROSS_ENTROPY kernel on
 * backends without a fused one.
 *   PyTorch:  F.cross_entropy(x, torch.where((y >= 0) & (y < V), y, -100), reduction="none", ignore_index=-100)
 */
export function crossEntropyRows(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (logits.rank !== 2) throw new SelectiveLossError("logits", "a [N, V] tensor", `rank ${logits.rank}`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0])
    throw new SelectiveLossError("labels", `shape [${logits.shape[0]}]`, `[${labels.shape}]`);
  return tf.tidy(() => rowCrossEntropy(logits, tf.cast(labels, "int32")) as tf.Tensor1D);
}

// customGrad's typing takes the save function as one of the variadic inputs; it is always passed last.
const rowCrossEntropy = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
  const logits = x as tf.Tensor2D;
  const [n, vocab] = logits.shape;
  const inVocab = tf.tidy(() => tf.logicalAnd(tf.greaterEqual(y, 0), tf.less(y, vocab)));
  const labels = tf.where(inVocab, y, tf.zerosLike(y)) as tf.Tensor1D;
  const valid = tf.cast(inVocab, "float32") as tf.Tensor1D;
  inVocab.dispose();
  const parts = chunks(n, vocab).map(([start, size]) =>
    tf.tidy(() => tf.logSumExp(tf.slice(logits, [start, 0], [size, vocab]), -1)),
  );
  const lse = parts.length === 1 ? (parts[0] as tf.Tensor1D) : tf.concat(parts);
  if (parts.length > 1) for (const p of parts) p.dispose();
  const value = tf.tidy(() => {
    const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(vocab, "int32")), labels);
    const picked = tf.gather(tf.reshape(logits, [n * vocab]), flatIndex);
    return tf.mul(tf.sub(lse, picked), valid);
  });
  save([logits, labels, lse, valid]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sy, slse, svalid] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      const grads = chunks(n, vocab).map(([start, size]) =>
        tf.tidy(() => {
          const rows = tf.slice(sx, [start, 0], [size, vocab]);
          const dyValid = tf.mul(tf.slice(dy, [start], [size]), tf.slice(svalid, [start], [size]));
          const dyRows = tf.reshape(dyValid, [size, 1]);
          const softmax = tf.exp(tf.sub(rows, tf.reshape(tf.slice(slse, [start], [size]), [size, 1])));
          const labelAt = tf.stack([tf.range(0, size, 1, "int32"), tf.slice(sy, [start], [size])], 1);
          const atLabel = tf.scatterND(labelAt, dyValid, [size, vocab]);
          return tf.sub(tf.mul(softmax, dyRows), atLabel);
        }),
      );
      const dx = grads.length === 1 ? (grads[0] as tf.Tensor) : tf.concat(grads);
      if (grads.length > 1) for (const g of grads) g.dispose();
      return [dx, tf.zerosLike(sy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Per-token causal-LM cross-entropy from logits: ce[b, t] = logsumexp(logits[b, t]) − logits[b, t, ids[b, t+1]],
 * zeroed where invalid; valid[b, t] = mask[b, t] · mask[b, t+1] (all ones without a mask). Differentiable; plain tfjs
 * ops, so it runs on any backend, and no one-hot over the vocabulary (see crossEntropyRows). Shapes: logits
 * [B, T, V], inputIds int32 [B, T] → ce, valid [B, T−1].
 */
export function tokenLosses(
  logits: tf.Tensor3D,
  inputIds: tf.Tensor2D,
  attentionMask?: tf.Tensor2D,
): { ce: tf.Tensor2D; valid: tf.Tensor2D } {
  const [B, T, V] = logits.shape;
  if (inputIds.rank !== 2 || inputIds.shape[0] !== B || inputIds.shape[1] !== T) {
    throw new SelectiveLossError("inputIds", `shape [${B}, ${T}] (like logits)`, `[${inputIds.shape}]`);
  }
  if (attentionMask && (attentionMask.shape[0] !== B || attentionMask.shape[1] !== T)) {
    throw new SelectiveLossError("attentionMask", `shape [${B}, ${T}]`, `[${attentionMask.shape}]`);
  }
  if (T < 2) throw new SelectiveLossError("inputIds", "at least 2 positions", `${T}`);
  return tf.tidy(() => {
    // Position t predicts ids[t+1]; the last position has no target, so it gets label 0 and is sliced away after
    // (cheaper than slicing the logits, which would copy [B, T−1, V]).
    const ids = tf.cast(inputIds, "int32");
    const next = tf.concat([tf.slice(ids, [0, 1], [B, T - 1]), tf.zeros([B, 1], "int32")], 1);
    const rows = rowCrossEntropy(tf.reshape(logits, [B * T, V]), tf.reshape(next, [B * T]));
    const perPosition = tf.slice(tf.reshape(rows, [B, T]), [0, 0], [B, T - 1]);
    const mask = attentionMask ? tf.cast(attentionMask, "float32") : tf.ones([B, T]);
    const valid = tf.mul(
      tf.slice(mask, [0, 0], [B, T - 1]),
      tf.slice(mask, [0, 1], [B, T - 1]),
    ) as tf.Tensor2D;
    const ce = tf.mul(perPosition, valid) as tf.Tensor2D;
    return { ce, valid };
  });
}
