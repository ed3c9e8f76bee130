import { tf } from "../tf.ts";
import { EMBEDDING } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

/**
 * table[ids]: [V, H] × int32 [...] → [..., H]. The composite's gradient is a scatter-add into [V, H]: tfjs's own
 * gather gradient (UnsortedSegmentSum) costs V × N × H on the cpu backend and is missing on wasm. On those two the
 * scatter-add is a host loop over host memory; on device backends (webgpu, libtensorflow) it is UnsortedSegmentSum.
 */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  if (hasKernel(EMBEDDING)) return runKernel<tf.Tensor>(EMBEDDING, { table, ids });
  const [vocab, hidden] = table.shape;
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, i, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([i]);
    const flat = tf.reshape(i, [-1]);
    const value = tf.reshape(tf.gather(t, flat), [...i.shape, hidden]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        scatterAdd(dy, saved[0], vocab, hidden),
        tf.zeros(i.shape),
      ],
    };
  });
  return lookup(table, ids) as tf.Tensor;
}

function scatterAdd(dy: tf.Tensor, ids: tf.Tensor, vocab: number, hidden: number): tf.Tensor {
  const backend = tf.getBackend();
  if (backend !== "cpu" && backend !== "wasm") {
    // A real scatter-add on libtensorflow and webgpu (atomic adds); the host loop below would read the device.
    return tf.unsortedSegmentSum(tf.reshape(dy, [-1, hidden]), tf.reshape(ids, [-1]), vocab);
  }
  const g = dy.dataSync() as Float32Array;
  const idx = ids.dataSync() as Int32Array;
  const out = new Float32Array(vocab * hidden);
  for (let n = 0; n < idx.length; n++) {
    const row = idx[n] * hidden;
    const src = n * hidden;
    for (let h = 0; h < hidden; h++) out[row + h] += g[src + h];
  }
  return tf.tensor2d(out, [vocab, hidden]);
}
