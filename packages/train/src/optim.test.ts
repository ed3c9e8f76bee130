import { describe, expect, test } from "bun:test";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as tf from "@tensorflow/tfjs-core";
import { ADAMW_KERNEL, AdamW, noDecayOf } from "./adamw.ts";
import { clipGradNorm } from "./clip.ts";
import { TrainError } from "./errors.ts";
import { cosineSchedule } from "./schedule.ts";

await tf.setBackend("cpu");

/** AdamW exactly as torch.optim.AdamW's formulas, in float64. */
function referenceAdamW(
  p: number[],
  grads: number[][],
  o: { lr: number; b1: number; b2: number; eps: number; wd: number },
) {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] = (p[i] as number) * (1 - o.lr * o.wd);
      m[i] = o.b1 * (m[i] as number) + (1 - o.b1) * (g[i] as number);
      v[i] = o.b2 * (v[i] as number) + (1 - o.b2) * (g[i] as number) ** 2;
      const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - o.b2 ** t) + o.eps;
      p[i] = (p[i] as number) - (o.lr / (1 - o.b1 ** t)) * ((m[i] as number) / denom);
    }
  });
  return p;
}

describe("AdamW", () => {
  test("three steps match PyTorch's formulas (decoupled decay, bias correction, eps outside sqrt)", () => {
    const init = [0.5, -1.2, 3, 1e-3];
    const grads = [
      [0.1, -0.2, 0.3, 1e-9],
      [-0.3, 0.05, 0.2, 0],
      [0.2, 0.2, -0.1, 4],
    ];
    const w = tf.variable(tf.tensor1d(init), true, "adamw-test-w");
    const opt = new AdamW(new Map([["w", w]]), {
      lr: 0.01,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0.1,
    });
    for (const g of grads) opt.step(new Map([["w", tf.tensor1d(g)]]));
    const want = referenceAdamW([...init], grads, { lr: 0.01, b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1 });
    const got = Array.from(w.dataSync());
    for (const [i, x] of got.entries()) expect(Math.abs(x - (want[i] as number))).toBeLessThan(1e-6);
    expect(opt.steps).toBe(3);
    // With @rho1/tfjs-native preloaded this checks its fused Rho1AdamW kernel, else the tfjs-ops path; .ci/run runs
    // this file both ways.
    console.log(
      `AdamW path tested: ${tf.getKernel(ADAMW_KERNEL, "cpu") ? "native Rho1AdamW kernel" : "tfjs ops"}`,
    );
  });
  test("--weight-decay-exclude: the excluded groups follow Adam without decay, the rest decay as before", () => {
    const names = [
      "model.embed_tokens.weight",
      "model.layers.0.input_layernorm.weight",
      "model.layers.0.post_attention_layernorm.weight",
      "model.layers.0.self_attn.q_proj.weight",
      "model.layers.0.self_attn.q_proj.bias",
      "model.norm.weight",
      "lm_head.weight",
    ];
    const excluded = (groups: string[]) => names.filter(noDecayOf(groups));
    expect(excluded([])).toEqual([]);
    expect(excluded(["norms"])).toEqual([names[1], names[2], names[5]]);
    expect(excluded(["embeddings"])).toEqual([names[0]]);
    expect(excluded(["bias"])).toEqual([names[4]]);
    expect(excluded(["norms", "embeddings", "bias"])).toEqual([
      names[0],
      names[1],
      names[2],
      names[4],
      names[5],
    ]);
    expect(() => noDecayOf(["norm"])).toThrow(
      '--weight-decay-exclude: expected a comma-separated subset of norms,embeddings,bias, found "norm"',
    );

    const init = [0.5, -1.2, 3];
    const grads = [
      [0.1, -0.2, 0.3],
      [-0.3, 0.05, 0.2],
    ];
    const o = { lr: 0.05, b1: 0.9, b2: 0.95, eps: 1e-8 };
    const vars = new Map(names.map((n, i) => [n, tf.variable(tf.tensor1d(init), true, `wd-exclude-${i}`)]));
    const opt = new AdamW(vars, {
      lr: o.lr,
      beta1: o.b1,
      beta2: o.b2,
      eps: o.eps,
      weightDecay: 0.1,
      noDecay: noDecayOf(["norms", "embeddings", "bias"]),
    });
    for (const g of grads) opt.step(new Map(names.map((n) => [n, tf.tensor1d(g)])));
    const decayed = referenceAdamW([...init], grads, { ...o, wd: 0.1 });
    const plain = referenceAdamW([...init], grads, { ...o, wd: 0 });
    for (const name of names) {
      const want = opt.noDecay.has(name) ? plain : decayed;
      const got = Array.from(vars.get(name)?.dataSync() ?? []);
      for (const [i, x] of got.entries()) expect(Math.abs(x - (want[i] as number))).toBeLessThan(1e-6);
    }
    expect([...opt.noDecay].sort()).toEqual(excluded(["norms", "embeddings", "bias"]).sort());
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  });

  test("state round-trips: a restored optimizer continues identically", () => {
    const mk = (name: string) => tf.variable(tf.tensor1d([1, 2, 3]), true, name);
    const a = mk("adamw-a");
    const b = mk("adamw-b");
    const oa = new AdamW(new Map([["x", a]]), { lr: 0.1 });
    oa.step(new Map([["x", tf.tensor1d([0.3, -0.1, 0.2])]]));
    b.assign(a);
    const ob = new AdamW(new Map([["x", b]]), { lr: 0.1 });
    ob.loadState(oa.state());
    for (const o of [oa, ob]) o.step(new Map([["x", tf.tensor1d([0.1, 0.1, -0.5])]]));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(ob.steps).toBe(2);
  });
  test("construct, step, restore and dispose leave no tensor behind", () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]), true, "adamw-leak");
    const grad = tf.tensor1d([0.3, -0.1, 0.2]);
    const before = tf.memory().numTensors;
    const opt = new AdamW(new Map([["w", w]]), { lr: 0.1 });
    opt.step(new Map([["w", grad]]));
    opt.loadState(opt.state());
    opt.step(new Map([["w", grad]]));
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  test("bad input is refused", () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, "adamw-bad");
    expect(() => new AdamW(new Map([["w", w]]), { lr: -1 })).toThrow(TrainError);
    expect(() => new AdamW(new Map([["w", w]]), { lr: 1, beta2: 1 })).toThrow(/beta2/);
    const opt = new AdamW(new Map([["w", w]]), { lr: 1 });
    expect(() => opt.step(new Map([["w", tf.tensor1d([1, 2, 3])]]))).toThrow(/shape \[3\]/);
    expect(() => opt.step(new Map([["nope", tf.tensor1d([1, 2])]]))).toThrow(/unknown variable nope/);
    expect(() => opt.loadState({ step: 1, m: new Map(), v: new Map() })).toThrow(/missing m.w/);
  });
});

describe("clipGradNorm", () => {
  test("global norm and torch's clip coefficient max_norm / (norm + 1e-6)", () => {
    const grads = new Map<string, tf.Tensor>([
      ["a", tf.tensor1d([3, 0])],
      ["b", tf.tensor2d([[0, 4]])],
    ]);
    const { grads: out, norm } = clipGradNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 6);
    const coef = 1 / (5 + 1e-6);
    expect(out.get("a")?.dataSync()[0]).toBeCloseTo(3 * coef, 7);
    expect(out.get("b")?.dataSync()[1]).toBeCloseTo(4 * coef, 7);
  });
  test("gradients under the limit pass through unchanged", () => {
    const g = tf.tensor1d([0.3, 0.4]);
    const { grads, norm } = clipGradNorm(new Map([["g", g]]), 1);
    expect(norm).toBeCloseTo(0.5, 6);
    expect(grads.get("g")).toBe(g);
  });
});

describe("tf.NamedTensorMap, as TensorFlow.js code has it", () => {
  test("AdamW from a NamedVariableMap or a list, stepped with tf.variableGrads' plain object; clip keeps the kind", () => {
    const w = tf.variable(
      tf.tensor2d([
        [1, -2],
        [0.5, 3],
      ]),
      true,
      "named.w",
    );
    const b = tf.variable(tf.tensor1d([0.1, -0.1]), true, "named.b");
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [-1, 0.5],
    ]);
    const loss = () => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))) as tf.Scalar;
    const viaMap = new AdamW(
      new Map<string, tf.Variable>([
        ["named.w", w],
        ["named.b", b],
      ]),
      { lr: 0.1 },
    );
    const viaList = new AdamW([w, b], { lr: 0.1 });
    const viaObject = new AdamW({ "named.w": w, "named.b": b }, { lr: 0.1 });
    for (const opt of [viaMap, viaList, viaObject]) {
      const w0 = w.arraySync();
      const { value, grads } = tf.variableGrads(loss);
      expect(grads instanceof Map).toBe(false);
      const clipped = clipGradNorm(grads, 1.0);
      expect(clipped.grads instanceof Map).toBe(false);
      expect(Object.keys(clipped.grads).sort()).toEqual(["named.b", "named.w"]);
      expect(clipped.norm).toBeGreaterThan(1);
      opt.step(clipped.grads);
      expect(w.arraySync()).not.toEqual(w0);
      for (const g of Object.values(clipped.grads)) g.dispose();
      value.dispose();
      opt.dispose();
    }
    // A Map in, a Map out.
    const asMap = clipGradNorm(new Map([["g", tf.tensor1d([3, 4])]]), 1);
    expect(asMap.grads instanceof Map).toBe(true);
    expect(asMap.norm).toBeCloseTo(5, 6);
    for (const t of [w, b, x, ...asMap.grads.values()]) t.dispose();
  });
});

describe("cosineSchedule", () => {
  const o = { lr: 1, minLr: 0.1, warmup: 4, total: 14 };
  test("linear warm-up, then cosine from lr to minLr at the last step", () => {
    expect(cosineSchedule(0, o)).toBeCloseTo(0.25, 12);
    expect(cosineSchedule(3, o)).toBeCloseTo(1, 12);
    expect(cosineSchedule(4, o)).toBeCloseTo(1, 12);
    expect(cosineSchedule(4 + 4.5, o)).toBeCloseTo(0.55, 12); // halfway through 9 decay steps
    expect(cosineSchedule(13, o)).toBeCloseTo(0.1, 12);
    expect(cosineSchedule(20, o)).toBeCloseTo(0.1, 12);
    expect(cosineSchedule(0, { lr: 2, minLr: 0, warmup: 0, total: 1 })).toBe(2);
  });
});
