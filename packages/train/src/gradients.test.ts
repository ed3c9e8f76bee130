import { describe, expect, test } from "bun:test";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { tokenLosses } from "@rho1/selective-loss";
import * as tf from "@tensorflow/tfjs-core";
import { TrainError } from "./errors.ts";
import { batchGradients, type MicroBatch, type TrainableModel } from "./gradients.ts";

await tf.setBackend("cpu");

const V = 11;
/** A bigram LM (logits = W[id]) plus a bias: tiny, but trained through the same code path as a transformer. */
function bigram(seed: number): TrainableModel {
  const W = tf.variable(
    tf.randomNormal([V, V], 0, 1, "float32", seed),
    true,
    `bigram-W-${seed}-${Math.random()}`,
  );
  const bias = tf.variable(
    tf.randomNormal([V], 0, 1, "float32", seed + 1),
    true,
    `bigram-b-${seed}-${Math.random()}`,
  );
  return {
    variables: new Map([
      ["W", W],
      ["bias", bias],
    ]),
    tokenLosses(ids, mask) {
      return tf.tidy(() => tokenLosses(tf.add(tf.gather(W, ids), bias) as tf.Tensor3D, ids, mask));
    },
  };
}

const B = 4;
const T = 7;
const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
const mask = Float32Array.from({ length: B * T }, (_, i) => (i >= 2 * T - 2 && i < 2 * T ? 0 : 1)); // row 1 padded
const refLoss = Float32Array.from({ length: B * (T - 1) }, (_, i) => ((i * 13) % 7) / 3);

function split(n: number): MicroBatch[] {
  const rows = B / n;
  return Array.from({ length: n }, (_, k) => ({
    batch: rows,
    time: T,
    ids: ids.slice(k * rows * T, (k + 1) * rows * T),
    mask: mask.slice(k * rows * T, (k + 1) * rows * T),
    refLoss: refLoss.slice(k * rows * (T - 1), (k + 1) * rows * (T - 1)),
  }));
}

describe("batchGradients", () => {
  for (const [ratio, scope] of [
    [1, "batch"],
    [0.5, "batch"],
    [0.4, "sequence"],
  ] as const) {
    test(`N micro-batches equal one batch N× larger (ratio ${ratio}, ${scope})`, async () => {
      const model = bigram(1);
      const whole = await batchGradients(model, split(1), { ratio, scope });
      const parts = await batchGradients(model, split(2), { ratio, scope });
      const quarters = await batchGradients(model, split(4), { ratio, scope });
      for (const other of [parts, quarters]) {
        expect(Math.abs(other.loss - whole.loss)).toBeLessThan(1e-6);
        expect(other.stats.nSelected).toBe(whole.stats.nSelected);
        expect(other.selected.flatMap((s) => Array.from(s))).toEqual(
          Array.from(whole.selected[0] as Float32Array),
        );
        for (const [name, g] of whole.grads) {
          const a = g.dataSync();
          const b = other.grads.get(name)?.dataSync() as Float32Array;
          let err = 0;
          for (let i = 0; i < a.length; i++)
            err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
          expect(err).toBeLessThan(1e-6);
        }
      }
      expect(whole.stats.nValid).toBe(B * (T - 1) - 2); // the padded row loses two targets
      if (ratio === 1) {
        expect(whole.stats.nSelected).toBe(whole.stats.nValid);
        expect(whole.loss).toBeCloseTo(whole.stats.lossAll, 5);
      } else expect(whole.stats.lossSelected).toBeCloseTo(whole.loss, 5);
    });
  }
  test("the loss and gradient are those of the selected tokens only", async () => {
    const model = bigram(2);
    const r = await batchGradients(model, split(1), { ratio: 0.5 });
    const sel = r.selected[0] as Float32Array;
    const { ce } = model.tokenLosses(tf.tensor2d(ids, [B, T], "int32"), tf.tensor2d(mask, [B, T]));
    const ceData = ce.dataSync();
    let sum = 0;
    let n = 0;
    for (let i = 0; i < sel.length; i++) {
      if (!sel[i]) continue;
      sum += ceData[i] as number;
      n++;
    }
    expect(n).toBe(Math.floor(0.5 * r.stats.nValid));
    expect(r.loss).toBeCloseTo(sum / n, 5);
    // The gradient is d(mean CE of the selected tokens)/dθ: unselected tokens contribute nothing.
    const selT = tf.tensor2d(sel, [B, T - 1]);
    const expected = tf.variableGrads(() => {
      const out = model.tokenLosses(tf.tensor2d(ids, [B, T], "int32"), tf.tensor2d(mask, [B, T]));
      return tf.div(tf.sum(tf.mul(out.ce, selT)), n) as tf.Scalar;
    }, [...model.variables.values()]).grads;
    for (const [key, v] of model.variables) {
      const got = (r.grads.get(key) as tf.Tensor).dataSync();
      const want = (expected[v.name] as tf.Tensor).dataSync();
      expect(got.length).toBe(want.length);
      let norm = 0;
      for (let i = 0; i < want.length; i++) {
        expect(got[i] as number).toBeCloseTo(want[i] as number, 5);
        norm += (want[i] as number) ** 2;
      }
      expect(norm).toBeGreaterThan(0);
    }
  });
  test("bad batches are refused with the field named", async () => {
    const model = bigram(3);
    await expect(batchGradients(model, [], { ratio: 1 })).rejects.toThrow(TrainError);
    const [mb] = split(1) as [MicroBatch];
    await expect(batchGradients(model, [{ ...mb, ids: mb.ids.slice(1) }], { ratio: 1 })).rejects.toThrow(
      /ids has 27 values, expected 28/,
    );
    await expect(batchGradients(model, [{ ...mb, refLoss: undefined }], { ratio: 0.5 })).rejects.toThrow(
      /reference/,
    );
    const nan = { ...mb, label: "sequences 3..6" };
    const broken: TrainableModel = {
      variables: model.variables,
      tokenLosses: (i, m) => {
        const r = model.tokenLosses(i, m);
        return { ce: tf.mul(r.ce, Number.NaN) as tf.Tensor2D, valid: r.valid };
      },
    };
    await expect(batchGradients(broken, [nan], { ratio: 1 })).rejects.toThrow(
      /NaN on micro-batch 0 \(sequences 3..6\)/,
    );
  });
});
