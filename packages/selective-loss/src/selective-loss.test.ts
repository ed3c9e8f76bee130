import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as tf from "@tensorflow/tfjs-core";
import {
  crossEntropyRows,
  histogram,
  SelectiveLossError,
  selectionCount,
  selectiveLoss,
  selectTokens,
  tokenLosses,
} from "./index.ts";

await tf.setBackend("cpu");

const FIXTURES = join(import.meta.dir, "../../../../shared/fixtures");
const EXPECTED = join(FIXTURES, "models/llama-gqa-f32.expected.safetensors");
const haveFixtures = fixturesPresent(EXPECTED);
if (!haveFixtures) console.warn(`skipping golden tests: ${EXPECTED} not found (../shared absent)`);

/** Minimal safetensors reader for the F32/I64 golden files (this package has no file-format dependency). */
type Tensors = (name: string) => { shape: number[]; data: Float32Array };
function readSafetensors(path: string): Tensors {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, info] of Object.entries<{
    dtype: string;
    shape: number[];
    data_offsets: [number, number];
  }>(header)) {
    if (name === "__metadata__") continue;
    const raw = bytes.subarray(8 + n + info.data_offsets[0], 8 + n + info.data_offsets[1]);
    const copy = new Uint8Array(raw).buffer;
    const data =
      info.dtype === "F32"
        ? new Float32Array(copy)
        : Float32Array.from(new BigInt64Array(copy), (v) => Number(v));
    out[name] = { shape: info.shape, data };
  }
  return (name) => {
    const t = out[name];
    if (!t) throw new Error(`${path}: no tensor ${name}`);
    return t;
  };
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("selectTokens", () => {
  test("batch scope keeps the top floor(ratio·n_valid) valid tokens", () => {
    const excess = Float32Array.from([0.5, 3, -1, 2, 9, 1, 4, 0]);
    const valid = Float32Array.from([1, 1, 1, 1, 0, 1, 1, 1]); // 7 valid; index 4 (9) is invalid
    const sel = selectTokens(excess, valid, 2, 4, 0.5, "batch"); // k = floor(3.5) = 3 → 4, 3, 2
    expect(Array.from(sel)).toEqual([0, 1, 0, 1, 0, 0, 1, 0]);
  });
  test("sequence scope ranks each row with its own k", () => {
    const excess = Float32Array.from([0.5, 3, -1, 2, 9, 1, 4, 0]);
    const valid = Float32Array.from([1, 1, 1, 1, 0, 1, 1, 1]);
    // row 0: 4 valid, k=2 → 3, 2; row 1: 3 valid, k=max(1, floor(1.5))=1 → 4
    expect(Array.from(selectTokens(excess, valid, 2, 4, 0.5, "sequence"))).toEqual([0, 1, 0, 1, 0, 0, 1, 0]);
    const sel = selectTokens(excess, valid, 2, 4, 0.25, "sequence"); // k=1 per row
    expect(Array.from(sel)).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
  });
  test("k is at least 1 and ties go to the lower index", () => {
    const sel = selectTokens(
      Float32Array.from([1, 1, 1, 1]),
      Float32Array.from([1, 1, 1, 1]),
      1,
      4,
      0.1,
      "batch",
    );
    expect(Array.from(sel)).toEqual([1, 0, 0, 0]);
    expect(selectionCount(0.6, 47)).toBe(28);
    expect(selectionCount(0.3, 10)).toBe(3);
    expect(selectionCount(0.01, 5)).toBe(1);
    expect(selectionCount(0.5, 0)).toBe(0);
  });
  test("bad input is refused with the field named", () => {
    const x = new Float32Array(4);
    expect(() => selectTokens(x, x, 1, 4, 0, "batch")).toThrow(SelectiveLossError);
    expect(() => selectTokens(x, x, 1, 4, 1.5, "batch")).toThrow(/ratio/);
    expect(() => selectTokens(x, new Float32Array(3), 1, 4, 0.5, "batch")).toThrow(
      /valid: expected length 4/,
    );
    expect(() => selectTokens(x, x, 1, 4, 0.5, "row" as "batch")).toThrow(/scope/);
  });
});

describe("selectiveLoss", () => {
  test("loss, selection, statistics and gradient on a hand-made batch", () => {
    const ce = tf.tensor2d([
      [2, 4, 1],
      [3, 5, 7],
    ]);
    const ref = Float32Array.from([1, 1, 1, 1, 1, 0]);
    const valid = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 0],
    ]);
    // excess over valid: [1, 3, 0, 2, 4]; ratio 0.6 → k = 3 → 5 (4), 4 (3), 3 (2): loss = (5+4+3)/3
    const { loss, selected, stats } = selectiveLoss({ ce, refLoss: ref, valid, ratio: 0.6 });
    expect(loss.dataSync()[0]).toBeCloseTo(4, 6);
    expect(Array.from(selected.dataSync())).toEqual([0, 1, 0, 1, 1, 0]);
    expect(stats.nValid).toBe(5);
    expect(stats.nSelected).toBe(3);
    expect(stats.selectedFraction).toBeCloseTo(0.6, 9);
    expect(stats.meanCeSelected).toBeCloseTo(4, 6);
    expect(stats.meanCeUnselected).toBeCloseTo(1.5, 6);
    expect(stats.meanExcess).toBeCloseTo(2, 6);
    expect(stats.meanExcessSelected).toBeCloseTo(3, 6);
    expect(stats.histogram.counts.reduce((a, b) => a + b)).toBe(5);
    const grad = tf.grad(
      (x: tf.Tensor) => selectiveLoss({ ce: x as tf.Tensor2D, refLoss: ref, valid, ratio: 0.6 }).loss,
    )(ce);
    const third = 1 / 3;
    expect(Array.from(grad.dataSync()).map((g) => Number(g.toFixed(6)))).toEqual(
      [0, third, 0, third, third, 0].map((g) => Number(g.toFixed(6))),
    );
  });
  test("ratio 1 without references is the plain causal-LM mean over valid tokens", () => {
    const ce = tf.tensor2d([[2, 4, 6]]);
    const { loss, stats } = selectiveLoss({ ce, valid: tf.tensor2d([[1, 1, 0]]), ratio: 1 });
    expect(loss.dataSync()[0]).toBeCloseTo(3, 6);
    expect(stats.meanCeUnselected).toBeNaN();
  });
  test("a reference model can replace precomputed scores", () => {
    const ids = tf.tensor2d([[1, 2, 3]], undefined, "int32");
    const referenceModel = { tokenLosses: () => ({ ce: tf.tensor2d([[5, 0, 1]]) }) };
    const ce = tf.tensor2d([[6, 2, 4]]); // excess 1, 2, 3 → ratio 0.34 keeps index 2
    const { selected } = selectiveLoss({
      ce,
      valid: tf.ones([1, 3]),
      ratio: 0.34,
      referenceModel,
      inputIds: ids,
    });
    expect(Array.from(selected.dataSync())).toEqual([0, 0, 1]);
  });
  test("precomputed selection and denominator (gradient accumulation)", () => {
    const ce = tf.tensor2d([[2, 4]]);
    const { loss } = selectiveLoss({
      ce,
      valid: tf.ones([1, 2]),
      ratio: 0.5,
      selected: Float32Array.from([1, 1]),
      denominator: 4,
    });
    expect(loss.dataSync()[0]).toBeCloseTo(1.5, 6);
  });
  test("bad input is refused", () => {
    const ce = tf.tensor2d([[1, 2]]);
    expect(() => selectiveLoss({ ce, valid: tf.ones([1, 2]), ratio: 0.5 })).toThrow(/refLoss/);
    expect(() => selectiveLoss({ ce, valid: tf.ones([1, 3]), ratio: 1 })).toThrow(
      /valid: expected shape \[1, 2\]/,
    );
    expect(() =>
      selectiveLoss({ ce, refLoss: new Float32Array(3), valid: tf.ones([1, 2]), ratio: 0.5 }),
    ).toThrow(/refLoss: expected 2 values/);
    expect(() =>
      selectiveLoss({ ce, refLoss: new Float32Array(2), valid: tf.ones([1, 2]), ratio: 0 }),
    ).toThrow(SelectiveLossError);
  });
});

describe("histogram", () => {
  test("bins values with fixed edges; outliers clamp to the end bins", () => {
    const h = histogram([-5, 0.1, 0.2, 0.9, 3], { bins: 2, range: [0, 1] });
    expect(h.edges).toEqual([0, 0.5, 1]);
    expect(h.counts).toEqual([3, 2]);
  });
  test("the default range is the values' min and max, also for a million values", () => {
    const values = Array.from({ length: 1_000_000 }, (_, i) => (i % 4) - 1); // -1, 0, 1, 2
    const h = histogram(values, { bins: 3 });
    expect(h.edges).toEqual([-1, 0, 1, 2]);
    expect(h.counts).toEqual([250_000, 250_000, 500_000]);
  });
});

describe.skipIf(!haveFixtures)("golden (PyTorch) on llama-gqa-f32", () => {
  const e: Tensors = haveFixtures
    ? readSafetensors(EXPECTED)
    : () => ({ shape: [], data: new Float32Array() });
  test("tokenLosses from logits equals the reference token_loss and valid", () => {
    const logits = tf.tensor3d(e("logits").data, e("logits").shape as [number, number, number]);
    const ids = tf.tensor2d(Int32Array.from(e("input_ids").data), [3, 24], "int32");
    const mask = tf.tensor2d(e("attention_mask").data, [3, 24]);
    const { ce, valid } = tokenLosses(logits, ids, mask);
    expect(Array.from(valid.dataSync())).toEqual(Array.from(e("valid").data));
    const got = ce.dataSync();
    const want = e("token_loss").data;
    let maxErr = 0;
    for (let i = 0; i < want.length; i++)
      maxErr = Math.max(maxErr, Math.abs((got[i] as number) - (want[i] as number)));
    expect(maxErr).toBeLessThan(1e-5);
  });
  for (const [scope, ratio] of [
    ["batch", "1.0"],
    ["batch", "0.6"],
    ["batch", "0.3"],
    ["sequence", "0.6"],
  ] as const) {
    test(`${scope} ratio ${ratio}: selection == selected_step0, loss == loss_step0`, () => {
      const t = readSafetensors(
        join(FIXTURES, `train/llama-gqa-f32.train_${scope}_ratio${ratio}.safetensors`),
      );
      const ce = tf.tensor2d(e("token_loss").data, [3, 23]);
      const valid = tf.tensor2d(e("valid").data, [3, 23]);
      const { loss, selected, stats } = selectiveLoss({
        ce,
        valid,
        refLoss: t("ref_loss").data,
        ratio: Number(ratio),
        scope,
      });
      expect(Array.from(selected.dataSync())).toEqual(Array.from(t("selected_step0").data));
      expect(relErr(loss.dataSync()[0] as number, t("loss_step0").data[0] as number)).toBeLessThan(1e-6);
      expect(stats.nSelected).toBe(t("selected_step0").data.reduce((a, b) => a + b));
    });
  }
});

interface BackendStorage {
  set(id: object, value: { values?: { byteLength: number } }): void;
  delete(id: object): boolean;
}

/**
 * Peak live bytes of the backend's data storage while `run` runs, starting from `startBytes` (tensors that already
 * exist). Real memory, not tf.memory(): tfjs counts every view (reshape) as new bytes; the storage sees each buffer once.
 */
function peakBytesOf(startBytes: number, run: () => void): number {
  const storage = (tf.backend() as unknown as { data: BackendStorage }).data;
  const live = new Map<object, number>();
  let liveBytes = startBytes;
  let peakBytes = startBytes;
  const { set, delete: remove } = storage;
  storage.set = function (id, value) {
    set.call(this, id, value);
    const bytes = value.values?.byteLength ?? 0;
    liveBytes += bytes - (live.get(id) ?? 0);
    live.set(id, bytes);
    peakBytes = Math.max(peakBytes, liveBytes);
  };
  storage.delete = function (id) {
    liveBytes -= live.get(id) ?? 0;
    live.delete(id);
    return remove.call(this, id);
  };
  try {
    run();
  } finally {
    storage.set = set;
    storage.delete = remove;
  }
  return peakBytes;
}

describe("crossEntropyRows (the CROSS_ENTROPY composite of @rho1/transformer)", () => {
  test("gradient at V = 32,000 without a one-hot: peak 3× the logits (a one-hot composite: 5×); labels outside the vocabulary give 0", () => {
    const [N, V] = [256, 32000];
    const logits = tf.randomNormal([N, V], 0, 3, "float32", 9) as tf.Tensor2D;
    const labelValues = Int32Array.from({ length: N }, (_, i) => (i * 7919) % V);
    labelValues[3] = -100;
    labelValues[4] = V;
    const labels = tf.tensor1d(labelValues, "int32");
    const logitsBytes = N * V * 4;
    let grad: tf.Tensor | undefined;
    const peakBytes = peakBytesOf(logitsBytes, () => {
      grad = tf.grad((x: tf.Tensor) => tf.sum(crossEntropyRows(x as tf.Tensor2D, labels)))(logits);
    });
    // The logits, the gradient's row chunks and their concatenation, plus one chunk of temporaries.
    expect(peakBytes).toBeLessThan(3.1 * logitsBytes);
    const g = (grad as tf.Tensor).dataSync();
    const x = logits.dataSync();
    const ce = crossEntropyRows(logits, labels).dataSync();
    for (const r of [0, 5, 255]) {
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < V; v++) max = Math.max(max, x[r * V + v] as number);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp((x[r * V + v] as number) - max);
      const label = labelValues[r] as number;
      expect(Math.abs((ce[r] as number) - (max + Math.log(sum) - (x[r * V + label] as number)))).toBeLessThan(
        1e-4,
      );
      for (const v of [0, label, V - 1]) {
        const want = Math.exp((x[r * V + v] as number) - max) / sum - (v === label ? 1 : 0);
        expect(Math.abs((g[r * V + v] as number) - want)).toBeLessThan(1e-5);
      }
    }
    for (const r of [3, 4]) {
      expect(ce[r]).toBe(0);
      expect(g.subarray(r * V, (r + 1) * V).every((v) => v === 0)).toBe(true);
    }
    const before = tf.memory().numTensors;
    crossEntropyRows(logits, labels).dispose();
    expect(tf.memory().numTensors).toBe(before); // nothing left behind outside a tidy
    expect(() => crossEntropyRows(logits, tf.tensor1d([1, 2], "int32"))).toThrow(
      "labels: expected shape [256], found [2]",
    );
  });
});

describe("tokenLosses at LLM scale", () => {
  test("V = 32,000, T = 512: peak memory below 2× the logits, values and gradients are log-softmax's", () => {
    const [B, T, V] = [1, 512, 32000];
    const logits = tf.randomNormal([B, T, V], 0, 3, "float32", 7) as tf.Tensor3D;
    const ids = tf.randomUniform([B, T], 0, V, "int32", 8) as tf.Tensor2D;
    const logitsBytes = B * T * V * 4;
    let result: tf.Tensor2D | undefined;
    const peakBytes = peakBytesOf(logitsBytes, () => {
      const { ce, valid } = tokenLosses(logits, ids);
      valid.dispose();
      result = ce;
    });
    expect(peakBytes).toBeGreaterThan(logitsBytes);
    expect(peakBytes).toBeLessThan(2 * logitsBytes);
    const ce = result as tf.Tensor2D;
    const x = logits.dataSync();
    const y = ids.dataSync();
    // logsumexp − the label's logit, in float64.
    const logSoftmaxAt = (t: number) => {
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < V; v++) max = Math.max(max, x[t * V + v] as number);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp((x[t * V + v] as number) - max);
      return { max, sum };
    };
    const got = ce.dataSync();
    for (const t of [0, 1, 255, 510]) {
      const { max, sum } = logSoftmaxAt(t);
      const want = max + Math.log(sum) - (x[t * V + (y[t + 1] as number)] as number);
      expect(Math.abs((got[t] as number) - want)).toBeLessThan(1e-4 * Math.max(1, want));
    }
    ce.dispose();
    // d(sum ce)/d logits = softmax − onehot(label) at every position with a target, 0 at the last one.
    const grad = tf.grad((l: tf.Tensor) => tf.sum(tokenLosses(l as tf.Tensor3D, ids).ce))(logits);
    const g = grad.dataSync();
    const t = 100;
    const { max, sum } = logSoftmaxAt(t);
    const label = y[t + 1] as number;
    for (const v of [0, 17, label, V - 1]) {
      const want = Math.exp((x[t * V + v] as number) - max) / sum - (v === label ? 1 : 0);
      expect(Math.abs((g[t * V + v] as number) - want)).toBeLessThan(1e-5);
    }
    for (const v of [0, 5, V - 1]) expect(g[(T - 1) * V + v]).toBe(0);
    for (const tensor of [grad, logits, ids]) tensor.dispose();
  }, 120_000);
});
