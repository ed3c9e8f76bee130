import { describe, expect, test } from "bun:test";
import { tf } from "../tf.ts";
import { attention } from "./attention.ts";
import { RMS_NORM } from "./contract.ts";
import { crossEntropy } from "./crossEntropy.ts";
import { embedding } from "./embedding.ts";
import { rmsNorm } from "./rmsNorm.ts";
import { inverseFrequencies, rope } from "./rope.ts";
import { swiglu } from "./swiglu.ts";

tf.setBackend("cpu");

let seed = 7;
function rand(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = (seed / 2147483648) * 2 - 1;
  }
  return out;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - b[i]) > tol * (1 + Math.abs(b[i]))) throw new Error(`index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

describe("attention (composite)", () => {
  // Plain loops over the contract's definition.
  function reference(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    mask: Float32Array,
    [b, tq, nh, d]: number[],
    [tk, nkv]: number[],
    offset: number,
    window: number | null,
  ): Float32Array {
    const out = new Float32Array(b * tq * nh * d);
    const g = nh / nkv;
    for (let bi = 0; bi < b; bi++)
      for (let i = 0; i < tq; i++)
        for (let h = 0; h < nh; h++) {
          const kv = Math.floor(h / g);
          const scores: number[] = [];
          const keys: number[] = [];
          for (let j = 0; j < tk; j++) {
            const pos = i + offset;
            if (j > pos || mask[bi * tk + j] === 0 || (window !== null && pos - j >= window)) continue;
            let s = 0;
            for (let x = 0; x < d; x++)
              s += q[((bi * tq + i) * nh + h) * d + x] * k[((bi * tk + j) * nkv + kv) * d + x];
            scores.push(s / Math.sqrt(d));
            keys.push(j);
          }
          if (keys.length === 0) continue;
          const m = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - m));
          const z = e.reduce((a, c) => a + c, 0);
          for (let x = 0; x < d; x++) {
            let acc = 0;
            keys.forEach((j, n) => {
              acc += (e[n] / z) * v[((bi * tk + j) * nkv + kv) * d + x];
            });
            out[((bi * tq + i) * nh + h) * d + x] = acc;
          }
        }
    return out;
  }

  const cases: [string, number, number, number | null][] = [
    ["full pass, GQA 4:2", 5, 0, null],
    ["decoding with a cache offset", 2, 3, null],
    ["sliding window cuts keys", 5, 0, 2],
  ];
  test.each(cases)("%s", (_name, tq, offset, window) => {
    const [b, nh, nkv, d, tk] = [2, 4, 2, 8, tq + offset];
    const q = rand(b * tq * nh * d);
    const k = rand(b * tk * nkv * d);
    const v = rand(b * tk * nkv * d);
    const mask = new Float32Array(b * tk).fill(1);
    mask[tk + 0] = 0; // row 1: first key is padding, so its query 0 (offset 0) sees nothing
    const out = attention(
      tf.tensor4d(q, [b, tq, nh, d]),
      tf.tensor4d(k, [b, tk, nkv, d]),
      tf.tensor4d(v, [b, tk, nkv, d]),
      tf.tensor2d(mask, [b, tk]),
      { scale: 1 / Math.sqrt(d), queryOffset: offset, slidingWindow: window },
    );
    expect(out.shape).toEqual([b, tq, nh, d]);
    const ours = out.dataSync();
    close(ours, reference(q, k, v, mask, [b, tq, nh, d], [tk, nkv], offset, window));
    if (offset === 0) {
      // the query that sees no key outputs zeros
      const row = ours.subarray(tq * nh * d, tq * nh * d + nh * d);
      expect(Array.from(row).every((x) => x === 0)).toBe(true);
    }
  });
});

describe("rope", () => {
  test("rotates halves by p·theta^(−2i/D) and its gradient is the inverse rotation", () => {
    const [b, t, h, d] = [1, 3, 2, 4];
    const x = rand(b * t * h * d);
    const positions = tf.tensor2d([[0, 1, 5]], undefined, "int32");
    const out = rope(tf.tensor4d(x, [b, t, h, d]), positions, 100, null).dataSync();
    const inv = [1, 100 ** -0.5];
    for (let ti = 0; ti < t; ti++) {
      const p = [0, 1, 5][ti];
      for (let hi = 0; hi < h; hi++)
        for (let i = 0; i < 2; i++) {
          const base = (ti * h + hi) * d;
          const [x1, x2] = [x[base + i], x[base + 2 + i]];
          const [c, s] = [Math.cos(p * inv[i]), Math.sin(p * inv[i])];
          expect(out[base + i]).toBeCloseTo(x1 * c - x2 * s, 5);
          expect(out[base + 2 + i]).toBeCloseTo(x2 * c + x1 * s, 5);
        }
    }
    // d/dx sum(rope(x) * w) = rope⁻¹(w), and rope⁻¹(rope(w)) = w
    const w = tf.tensor4d(rand(b * t * h * d), [b, t, h, d]);
    const grad = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(rope(xx as tf.Tensor4D, positions, 100, null), w)))(
      tf.tensor4d(x, [b, t, h, d]),
    );
    close(rope(grad as tf.Tensor4D, positions, 100, null).dataSync(), w.dataSync());
  });

  test("llama3 scaling keeps high frequencies, divides low ones by factor, smooths between", () => {
    const plain = inverseFrequencies(500000, 128, null);
    const scaled = inverseFrequencies(500000, 128, {
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled[63]).toBeCloseTo(plain[63] / 8, 15);
    const wavelen = (i: number) => (2 * Math.PI) / plain[i];
    const mid = Array.from(plain.keys()).find((i) => wavelen(i) > 2048 && wavelen(i) < 8192) as number;
    expect(scaled[mid]).toBeLessThan(plain[mid]);
    expect(scaled[mid]).toBeGreaterThan(plain[mid] / 8);
    const linear = inverseFrequencies(10000, 8, { type: "linear", factor: 4 });
    close(
      linear,
      Array.from(inverseFrequencies(10000, 8, null), (f) => f / 4),
    );
  });
});

describe("cross-entropy", () => {
  test("values = logsumexp − picked logit, 0 for labels outside the vocabulary; gradient = softmax − onehot", () => {
    const [n, v] = [4, 6];
    const logits = tf.tensor2d(
      rand(n * v).map((x) => x * 5),
      [n, v],
    );
    const labels = tf.tensor1d([2, -1, 5, 6], "int32");
    const ce = crossEntropy(logits, labels).dataSync();
    const l = logits.arraySync();
    const expected = [2, -1, 5, 6].map((y, i) => {
      if (y < 0 || y >= v) return 0;
      const m = Math.max(...l[i]);
      return m + Math.log(l[i].reduce((a, x) => a + Math.exp(x - m), 0)) - l[i][y];
    });
    close(ce, expected);
    const dy = tf.tensor1d([1, 2, 3, 4]);
    const grad = tf
      .grad((x: tf.Tensor) => tf.sum(tf.mul(crossEntropy(x as tf.Tensor2D, labels), dy)))(logits)
      .arraySync() as number[][];
    const probs = tf.softmax(logits).arraySync();
    [2, -1, 5, 6].forEach((y, i) => {
      const valid = y >= 0 && y < v;
      for (let j = 0; j < v; j++) {
        const want = valid ? (i + 1) * (probs[i][j] - (j === y ? 1 : 0)) : 0;
        expect(grad[i][j]).toBeCloseTo(want, 5);
      }
    });
  });
});

describe("embedding", () => {
  test("gathers rows; gradient scatter-adds repeated ids", () => {
    const table = tf.tensor2d(rand(5 * 3), [5, 3]);
    const ids = tf.tensor2d([[1, 4, 1]], undefined, "int32");
    const out = embedding(table, ids);
    expect(out.shape).toEqual([1, 3, 3]);
    close(out.dataSync(), tf.gather(table, [1, 4, 1]).dataSync());
    const dy = tf.tensor3d([
      [
        [1, 2, 3],
        [4, 5, 6],
        [10, 20, 30],
      ],
    ]);
    const grad = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(embedding(t as tf.Tensor2D, ids), dy)))(table)
      .arraySync();
    expect(grad).toEqual([
      [0, 0, 0],
      [11, 22, 33],
      [0, 0, 0],
      [0, 0, 0],
      [4, 5, 6],
    ]);
  });
});

describe("rmsNorm and swiglu", () => {
  test("match their definitions", () => {
    const x = rand(2 * 4);
    const w = rand(4);
    const ours = rmsNorm(tf.tensor2d(x, [2, 4]), tf.tensor1d(w), 1e-5).dataSync();
    for (let r = 0; r < 2; r++) {
      const row = x.subarray(r * 4, r * 4 + 4);
      const scale = 1 / Math.sqrt(row.reduce((a, c) => a + c * c, 0) / 4 + 1e-5);
      for (let i = 0; i < 4; i++) expect(ours[r * 4 + i]).toBeCloseTo(row[i] * scale * w[i], 5);
    }
    const g = rand(6);
    const u = rand(6);
    const s = swiglu(tf.tensor1d(g), tf.tensor1d(u)).dataSync();
    for (let i = 0; i < 6; i++) expect(s[i]).toBeCloseTo((g[i] / (1 + Math.exp(-g[i]))) * u[i], 6);
  });
});

describe("kernel contract dispatch", () => {
  test("a kernel registered under the contract name replaces the composite", () => {
    let calls = 0;
    // Another package's tests may have registered a native kernel under this name: put it back afterwards.
    const previous = tf.getKernel(RMS_NORM, "cpu");
    if (previous) tf.unregisterKernel(RMS_NORM, "cpu");
    tf.registerKernel({
      kernelName: RMS_NORM,
      backendName: "cpu",
      kernelFunc: ({ inputs, backend }) => {
        calls++;
        const x = inputs.x as tf.TensorInfo;
        const cpu = backend as unknown as {
          makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo;
        };
        return cpu.makeTensorInfo(
          x.shape,
          "float32",
          new Float32Array(x.shape.reduce((a, b) => a * b, 1)).fill(42),
        );
      },
    });
    try {
      const y = rmsNorm(tf.ones([2, 3]), tf.ones([3]) as tf.Tensor1D, 1e-5);
      expect(calls).toBe(1);
      expect(Array.from(y.dataSync())).toEqual([42, 42, 42, 42, 42, 42]);
    } finally {
      tf.unregisterKernel(RMS_NORM, "cpu");
      if (previous) tf.registerKernel(previous);
    }
    expect(rmsNorm(tf.ones([1, 2]), tf.ones([2]) as tf.Tensor1D, 0).dataSync()[0]).toBeCloseTo(1, 6);
  });
});
