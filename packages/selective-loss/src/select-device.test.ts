import { describe, expect, test } from "bun:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { selectTokens } from "./select.ts";
import { selectTokensOnDevice } from "./select-device.ts";
import { selectiveLoss, selectiveLossOnDevice } from "./selective-loss.ts";
import { deviceSelectionMismatches, selectionCases } from "./testing/selection-cases.ts";

await tf.setBackend("cpu");

describe("selectTokensOnDevice", () => {
  test("gives selectTokens' mask exactly: ties by index, NaN as +∞, padding, both scopes, every ratio", async () => {
    expect(selectionCases().length).toBe(140);
    expect(await deviceSelectionMismatches()).toEqual([]);
  });

  test("ties at the threshold keep the lower indices", async () => {
    const excess = Float32Array.from([1, 2, 2, 2, 0, 2]);
    const valid = Float32Array.from([1, 1, 0, 1, 1, 1]);
    const mask = selectTokensOnDevice(tf.tensor2d(excess, [1, 6]), valid, 1, 6, 0.5, "batch");
    // k = floor(0.5 · 5) = 2 of the valid 2s at indices 1, 3, 5: the first two; index 2 is padding.
    expect(Array.from(await mask.data())).toEqual([0, 1, 0, 1, 0, 0]);
    expect(Array.from(selectTokens(excess, valid, 1, 6, 0.5, "batch"))).toEqual([0, 1, 0, 1, 0, 0]);
  });

  test("validity is any non-zero value, as in select.ts; the mask is 0/1 at every ratio", async () => {
    const excess = tf.tensor2d([[3, 1, 2, 5]]);
    const valid = Float32Array.from([2, 0.5, 1, 0]);
    for (const ratio of [1, 0.7]) {
      const mask = selectTokensOnDevice(excess, valid, 1, 4, ratio, "batch");
      expect(Array.from(await mask.data())).toEqual(
        Array.from(selectTokens(Float32Array.from([3, 1, 2, 5]), valid, 1, 4, ratio, "batch")),
      );
    }
    expect(Array.from(await selectTokensOnDevice(excess, valid, 1, 4, 1, "batch").data())).toEqual([
      1, 1, 1, 0,
    ]);
  });

  test("bad input is a typed error", () => {
    const x = tf.zeros([2, 3]);
    expect(() => selectTokensOnDevice(x, new Float32Array(5), 2, 3, 0.5, "batch")).toThrow(
      "valid: expected length 6 (2×3), found 5",
    );
    expect(() => selectTokensOnDevice(x, new Float32Array(6), 2, 3, 0, "batch")).toThrow("ratio");
    expect(() => selectTokensOnDevice(x, new Float32Array(6), 2, 3, 0.5, "row" as "batch")).toThrow("scope");
  });
});

describe("selectiveLossOnDevice", () => {
  test("same loss, mask and gradient as selectiveLoss, and no gradient through the ranking", async () => {
    const [B, T] = [3, 9];
    const ceValues = Float32Array.from({ length: B * T }, (_, i) => 1 + ((i * 7919) % 23) / 7);
    const ref = Float32Array.from({ length: B * T }, (_, i) => ((i * 104729) % 17) / 9);
    const valid = Float32Array.from({ length: B * T }, (_, i) => (i % 5 === 4 ? 0 : 1));
    const ce = tf.tensor2d(ceValues, [B, T]);
    for (const scope of ["batch", "sequence"] as const) {
      const host = selectiveLoss({ ce, valid: tf.tensor2d(valid, [B, T]), refLoss: ref, ratio: 0.6, scope });
      const denominator = host.stats.nSelected;
      const dev = selectiveLossOnDevice({ ce, valid, refLoss: ref, ratio: 0.6, scope, denominator });
      expect(Array.from(await dev.selected.data())).toEqual(Array.from(host.selectedValues));
      expect((await dev.loss.data())[0]).toBe((await host.loss.data())[0] as number);
      const grad = (f: (x: tf.Tensor2D) => tf.Scalar) => tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(ce);
      const gDevice = grad(
        (x) => selectiveLossOnDevice({ ce: x, valid, refLoss: ref, ratio: 0.6, scope, denominator }).loss,
      );
      // d loss / d ce = mask / nSelected: the mask alone, nothing from the comparisons.
      const want = Array.from(host.selectedValues, (m) => Math.fround(m / denominator));
      expect(Array.from(await gDevice.data())).toEqual(want);
    }
  });

  test("ratio 1 needs no reference; ratio < 1 without one is a typed error", () => {
    const ce = tf.ones([2, 4]) as tf.Tensor2D;
    const valid = new Float32Array(8).fill(1);
    const r = selectiveLossOnDevice({ ce, valid, ratio: 1, denominator: 8 });
    expect(r.selected.dataSync()).toEqual(new Float32Array(8).fill(1));
    expect(() => selectiveLossOnDevice({ ce, valid, ratio: 0.5, denominator: 4 })).toThrow(
      "refLoss: expected reference losses when ratio < 1, found none",
    );
    expect(() => selectiveLossOnDevice({ ce, valid, ratio: 1, denominator: 0 })).toThrow("denominator");
  });
});
