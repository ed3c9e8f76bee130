/**
 * The golden tests on WebGPU: the same PyTorch/transformers fixtures as the CPU paths, run through tfjs-webgpu with
 * this package's kernels. Not part of `bun test` (a software adapter makes them take minutes); run them with
 * `bun run test:webgpu` (RHO1_BACKEND=webgpu: a software adapter such as Mesa's lavapipe counts). Without any
 * WebGPU adapter they fail rather than skip.
 *
 * Every read is `await data()`: the backend's readSync is wrapped and must never be called on data that lives on
 * the GPU. (tfjs-webgpu itself calls readSync on small tensors that still hold their host array, to run tiny ops
 * on the CPU; those reads touch no GPU memory and are not counted.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors } from "@rho1/safetensors";
import { referenceLosses, referenceLossesAsync, selectiveLoss } from "@rho1/selective-loss";
import {
  AdamW,
  batchGradients,
  clipGradNormAsync,
  type EvalMetrics,
  type StepMetrics,
  type TrainOptions,
  train,
} from "@rho1/train";
import { CausalLM, ops, tf } from "@rho1/transformer";
import { deviceSelectionMismatches } from "../../../selective-loss/src/testing/selection-cases.ts";
import { registerWebGPUKernels, setupWebGPU, unregisterWebGPUKernels, webgpuBufferCount } from "../index.ts";

const SHARED = join(import.meta.dir, "../../../../../shared");
const MODELS = join(SHARED, "fixtures/models");
const TRAIN = join(SHARED, "fixtures/train");
const REPO = join(import.meta.dir, "../../../..");
const STORIES = join(REPO, "models/stories260K");

let syncReads = 0;
setDefaultTimeout(300_000); // a software adapter runs at a few GFLOP/s

beforeAll(async () => {
  const result = await setupWebGPU({ allowFallback: true });
  if (!result.ok) throw new Error(`WebGPU unavailable: ${result.why}`);
  console.log(`golden.webgpu: ${result.label}`);
  const backend = tf.backend() as unknown as {
    readSync: (id: object) => unknown;
    tensorMap: { get(id: object): { values: unknown } };
  };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (id: object) => {
    if (backend.tensorMap.get(id).values == null) syncReads++;
    return readSync(id);
  };
});

const ints = (x: Float32Array) => Array.from(x, (v) => Math.round(v));
const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;

function relativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(ours.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += ((ours[i] as number) - (ref[i] as number)) ** 2;
    den += (ref[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

function maxAbs(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(ours.length).toBe(ref.length);
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs((ours[i] as number) - (ref[i] as number)));
  return m;
}

describe("kernels against the tfjs composites on the same backend", () => {
  /** Runs `f` with the fused kernels and with the composites (kernels unregistered); returns the rel errors. */
  async function compare(f: () => tf.Tensor[]): Promise<number[]> {
    const fused = await Promise.all(f().map(read));
    unregisterWebGPUKernels();
    try {
      const composite = await Promise.all(f().map(read));
      return fused.map((x, i) => relativeError(x, composite[i] as Float32Array));
    } finally {
      registerWebGPUKernels();
    }
  }
  const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);
  const [B, T, H, KV, D] = [2, 37, 4, 2, 16];
  const positions = () =>
    tf.tensor2d(
      Int32Array.from({ length: B * T }, (_, i) => (i % T) + 3),
      [B, T],
      "int32",
    );
  const keyMask = () =>
    tf.tensor2d(
      Float32Array.from({ length: B * T }, (_, i) => (i === 5 || i === T + 1 ? 0 : 1)),
      [B, T],
    );

  test("RMSNorm, SwiGLU, RoPE: values and gradients", async () => {
    const errs = await compare(() => {
      const x = normal([B, T, 48], 1);
      const w = normal([48], 2);
      const up = normal([B, T, 48], 3);
      const dy = normal([B, T, 48], 4);
      const xr = normal([B, T, H, D], 5);
      const dr = normal([B, T, H, D], 6);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.add(ops.swiglu(ops.rmsNorm(a, b as tf.Tensor1D, 1e-5), c), 0);
      const rope = (a: tf.Tensor) => ops.rope(a as tf.Tensor4D, positions(), 10000, null);
      return [
        f(x, w, up),
        ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c), dy)))([x, w, up]),
        rope(xr),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(rope(a), dr)))(xr),
      ];
    });
    for (const e of errs) expect(e).toBeLessThan(1e-6);
  });

  test("causal GQA attention (padding, cache offset): values and gradients", async () => {
    const errs = await compare(() => {
      const q = normal([B, T, H, D], 1);
      const k = normal([B, T, KV, D], 2);
      const v = normal([B, T, KV, D], 3);
      const dy = normal([B, T, H, D], 4);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        ops.attention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, keyMask(), {
          scale: 0.25,
          queryOffset: 0,
        });
      const q3 = normal([B, 3, H, D], 5);
      return [
        f(q, k, v),
        ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c), dy)))([q, k, v]),
        ops.attention(q3 as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, keyMask(), {
          scale: 0.25,
          queryOffset: T - 3,
        }),
      ];
    });
    for (const e of errs) expect(e).toBeLessThan(1e-6);
  });

  test("cross-entropy (ignored labels) and embedding (repeated ids): values and gradients", async () => {
    const errs = await compare(() => {
      const labels = tf.tensor1d(
        Int32Array.from({ length: 50 }, (_, i) => (i === 7 ? -1 : (i * 13) % 300)),
        "int32",
      );
      const x = normal([50, 300], 1);
      const w = normal([50], 2);
      const ids = tf.tensor2d(
        Int32Array.from({ length: B * T }, (_, i) => (i * 7) % 20),
        [B, T],
        "int32",
      );
      const table = normal([20, 24], 3);
      const dy = normal([B, T, 24], 4);
      return [
        ops.crossEntropy(x as tf.Tensor2D, labels),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(ops.crossEntropy(a as tf.Tensor2D, labels), w)))(x),
        ops.embedding(table as tf.Tensor2D, ids),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(ops.embedding(a as tf.Tensor2D, ids), dy)))(table),
      ];
    });
    for (const e of errs) expect(e).toBeLessThan(1e-6);
  });
});

describe.each(["llama-gqa-f32", "llama-tied-bf16-sharded", "llama-f16", "mistral-gqa-f32"])(
  "golden %s",
  (name) => {
    test("logits, token losses, valid and greedy output match transformers, with no synchronous read", async () => {
      const model = await CausalLM.load(join(MODELS, name));
      const expected = openSafetensors(join(MODELS, `${name}.expected.safetensors`));
      const [b, t] = expected.info("input_ids").shape as [number, number];
      const ids = tf.tensor2d(Int32Array.from(ints(expected.readFloat32("input_ids"))), [b, t], "int32");
      const mask = tf.tensor2d(expected.readFloat32("attention_mask"), [b, t]);
      const before = syncReads;

      const logits = model.logits(ids, mask);
      expect(relativeError(await read(logits), expected.readFloat32("logits_f64"))).toBeLessThan(1e-4);
      const { ce, valid } = model.tokenLosses(ids, mask); // ids already uploaded: labels come from the device
      expect(maxAbs(await read(ce), expected.readFloat32("token_loss"))).toBeLessThan(1e-4);
      expect(Array.from(await read(valid))).toEqual(Array.from(expected.readFloat32("valid")));
      // An int32 mask (what the scorer passes) reaches the attention kernel as an int32 buffer: same losses.
      const intMask = tf.tensor2d(
        Int32Array.from(ints(expected.readFloat32("attention_mask"))),
        [b, t],
        "int32",
      );
      const fromInt = model.tokenLosses(ids, intMask);
      expect(Array.from(await read(fromInt.ce))).toEqual(Array.from(await read(ce)));
      tf.dispose([intMask, fromInt.ce, fromInt.valid]);

      const prompt = ints(expected.readFloat32("greedy_prompt"));
      const greedy = ints(expected.readFloat32("greedy_output"));
      const [out] = await model.generateAsync([prompt], {
        maxNewTokens: greedy.length - prompt.length,
        eosTokenId: null,
      });
      expect([...prompt, ...out.ids]).toEqual(greedy);
      expect(syncReads - before).toBe(0);
      tf.dispose([ids, mask, logits, ce, valid]);
      model.dispose();
      expected.close();
    });
  },
);

describe("golden stories260K", () => {
  test("logits, token losses and 48-token greedy outputs, batched and one by one", async () => {
    const model = await CausalLM.load(STORIES);
    const expected = openSafetensors(join(MODELS, "stories260K.expected.safetensors"));
    const texts = JSON.parse(readFileSync(join(MODELS, "stories260K.expected.json"), "utf8")) as unknown[];
    const before = syncReads;
    const prompts: number[][] = [];
    const outputs: number[][] = [];
    for (let p = 0; p < texts.length; p++) {
      const ids = ints(expected.readFloat32(`p${p}.input_ids`));
      const input = tf.tensor2d([ids], undefined, "int32");
      const logits = model.logits(input);
      expect(relativeError(await read(logits), expected.readFloat32(`p${p}.logits`))).toBeLessThan(1e-4);
      const { ce, valid } = model.tokenLosses(input);
      expect(maxAbs(await read(ce), expected.readFloat32(`p${p}.token_loss`))).toBeLessThan(1e-4);
      const out = ints(expected.readFloat32(`p${p}.greedy_output`));
      const [res] = await model.generateAsync([ids], { maxNewTokens: out.length - ids.length });
      expect([...ids, ...res.ids]).toEqual(out);
      prompts.push(ids);
      outputs.push(res.ids);
      tf.dispose([input, logits, ce, valid]);
    }
    const batched = await model.generateAsync(prompts, { maxNewTokens: 48 });
    expect(batched.map((r) => r.ids)).toEqual(outputs);
    expect(syncReads - before).toBe(0);
    model.dispose();
    expected.close();
  });
});

describe("save", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("writes the same bytes as the cpu backend, with no synchronous read", async () => {
    const model = await CausalLM.load(join(MODELS, "llama-tied-bf16-sharded"));
    const before = syncReads;
    const gpuDir = mkdtempSync(join(tmpdir(), "rho1-webgpu-save-"));
    dirs.push(gpuDir);
    await model.save(gpuDir, { dtype: "BF16" });
    expect(syncReads - before).toBe(0);
    model.dispose();
    await tf.setBackend("cpu");
    try {
      const cpuModel = await CausalLM.load(join(MODELS, "llama-tied-bf16-sharded"));
      const cpuDir = mkdtempSync(join(tmpdir(), "rho1-cpu-save-"));
      dirs.push(cpuDir);
      await cpuModel.save(cpuDir, { dtype: "BF16" });
      cpuModel.dispose();
      const files = readdirSync(cpuDir).sort();
      expect(readdirSync(gpuDir).sort()).toEqual(files);
      for (const f of files)
        expect(readFileSync(join(gpuDir, f)).equals(readFileSync(join(cpuDir, f)))).toBe(true);
    } finally {
      await tf.setBackend("webgpu");
    }
  });
});

describe("SLM selection on the device", () => {
  test("selectTokensOnDevice gives select.ts's mask exactly (ties, NaN, ±∞, padding, both scopes), no sync read", async () => {
    const before = syncReads;
    expect(await deviceSelectionMismatches()).toEqual([]);
    expect(syncReads - before).toBe(0);
  });

  test("the host-selection API names the WebGPU way instead of failing inside tfjs", async () => {
    const model = await CausalLM.load(join(MODELS, "llama-gqa-f32"));
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
    const { ce, valid } = model.tokenLosses(ids);
    expect(() => selectiveLoss({ ce, valid, refLoss: new Float32Array(3), ratio: 0.5 })).toThrow(
      "selective loss: ce: expected a tensor on a backend that reads synchronously (on webgpu use selectiveLossOnDevice)",
    );
    expect(() => referenceLosses(model, ids)).toThrow("on webgpu use referenceLossesAsync");
    expect((await referenceLossesAsync(model, ids)).length).toBe(3);
    for (const t of [ids, ce, valid]) t.dispose();
    model.dispose();
  });
});

describe("golden: SLM gradients and two AdamW steps vs PyTorch (llama-gqa-f32)", () => {
  for (const [scope, ratio] of [
    ["batch", "1.0"],
    ["batch", "0.6"],
    ["sequence", "0.6"],
  ] as const) {
    test(`${scope} ratio ${ratio}: @rho1/train's batchGradients, clipping and AdamW`, async () => {
      const expected = openSafetensors(join(MODELS, "llama-gqa-f32.expected.safetensors"));
      const golden = openSafetensors(join(TRAIN, `llama-gqa-f32.train_${scope}_ratio${ratio}.safetensors`));
      const model = await CausalLM.load(join(MODELS, "llama-gqa-f32"));
      const [B, T] = expected.info("input_ids").shape as [number, number];
      const batch = {
        batch: B,
        time: T,
        ids: Int32Array.from(expected.readFloat32("input_ids")),
        mask: expected.readFloat32("attention_mask"),
        refLoss: golden.readFloat32("ref_loss"),
      };
      const optimizer = new AdamW(model.variables, {
        lr: 1e-2,
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weightDecay: 0.1,
      });
      const before = syncReads;
      for (let step = 0; step < 2; step++) {
        const r = await batchGradients(model, [batch], { ratio: Number(ratio), scope });
        expect(Array.from(r.selected[0] as Float32Array)).toEqual(
          Array.from(golden.readFloat32(`selected_step${step}`)),
        );
        const want = golden.readFloat32(`loss_step${step}`)[0] as number;
        expect(Math.abs(r.loss - want) / want).toBeLessThan(1e-4);
        const { grads, norm } = await clipGradNormAsync(r.grads, 1.0);
        if (step === 0) {
          const wantNorm = golden.readFloat32("grad_norm_step0")[0] as number;
          expect(Math.abs(norm - wantNorm) / wantNorm).toBeLessThan(1e-4);
          for (const [name, g] of grads)
            expect(relativeError(await read(g), golden.readFloat32(`grad.${name}`))).toBeLessThan(1e-4);
        }
        optimizer.step(grads);
        for (const g of grads.values()) g.dispose();
      }
      for (const [name, v] of model.variables)
        expect(relativeError(await read(v), golden.readFloat32(`after2.${name}`))).toBeLessThan(1e-4);
      expect(syncReads - before).toBe(0);
      optimizer.dispose();
      model.dispose();
    });
  }
});

describe("rho1 train on webgpu against the cpu backend (stories260K)", () => {
  const dir = mkdtempSync(join(tmpdir(), "rho1-webgpu-train-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const texts = readFileSync(join(REPO, "data/corpus/clean/gsm8k_train.sample.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .slice(0, 80)
    .map((line) => {
      const { question, answer } = JSON.parse(line) as { question: string; answer: string };
      return JSON.stringify({ text: `${question}\n${answer}` });
    });
  const corpus = join(dir, "corpus.jsonl");
  const heldOut = join(dir, "heldout.jsonl");
  writeFileSync(corpus, `${texts.slice(0, 64).join("\n")}\n`);
  writeFileSync(heldOut, `${texts.slice(64).join("\n")}\n`);

  /** One `rho1 train` run on `backend`: the per-step metrics and the evaluations, and the sync reads it made. */
  async function run(backend: "webgpu" | "cpu", name: string, opts: Partial<TrainOptions>) {
    await tf.setBackend(backend);
    try {
      const steps: StepMetrics[] = [];
      const evals: EvalMetrics[] = [];
      const before = syncReads;
      const summary = await train({
        modelDir: STORIES,
        data: [corpus],
        evalData: [heldOut],
        outDir: join(dir, `${name}-${backend}`),
        seqLen: 64,
        batchSize: 4,
        steps: 4,
        saveEvery: 2,
        lr: 2e-3,
        warmup: 1,
        seed: 1,
        progress: null,
        onStep: (m) => steps.push(m),
        onEval: (m) => evals.push(m),
        ...opts,
      });
      return { summary, steps, evals, syncReads: syncReads - before };
    } finally {
      await tf.setBackend("webgpu");
    }
  }

  function expectClose(gpu: Awaited<ReturnType<typeof run>>, cpu: Awaited<ReturnType<typeof run>>) {
    expect(gpu.syncReads).toBe(0);
    expect(gpu.steps.length).toBe(cpu.steps.length);
    gpu.steps.forEach((g, i) => {
      const c = cpu.steps[i] as StepMetrics;
      expect(Math.abs(g.loss - c.loss)).toBeLessThan(1e-3);
      expect(Math.abs((g.loss_selected ?? 0) - (c.loss_selected ?? 0))).toBeLessThan(1e-3);
      expect(g.selected_tokens).toBe(c.selected_tokens);
      expect(Math.abs(g.grad_norm - c.grad_norm) / c.grad_norm).toBeLessThan(1e-3);
    });
    expect(gpu.evals.map((e) => e.step)).toEqual(cpu.evals.map((e) => e.step));
    for (const [i, g] of gpu.evals.entries())
      expect(Math.abs(g.eval_loss - (cpu.evals[i] as EvalMetrics).eval_loss)).toBeLessThan(1e-3);
  }

  test("causal LM, then SLM at ratio 0.6 against that reference model over 2 micro-batches: losses within 1e-3, no sync read", async () => {
    const clmGpu = await run("webgpu", "clm", {});
    const clmCpu = await run("cpu", "clm", {});
    expectClose(clmGpu, clmCpu);
    // Both SLM runs score against the same reference weights (the cpu run's), so only the backend differs.
    const slm = { refModelDir: clmCpu.summary.finalDir, selectRatio: 0.6, gradAccum: 2, batchSize: 2 };
    const slmGpu = await run("webgpu", "slm", slm);
    const slmCpu = await run("cpu", "slm", slm);
    expectClose(slmGpu, slmCpu);
    const report = (r: Awaited<ReturnType<typeof run>>) =>
      `${r.steps.map((m) => m.loss.toFixed(5)).join(" ")} | eval ${r.evals.map((e) => e.eval_loss.toFixed(5)).join(" ")}`;
    console.log(`train webgpu CLM ${report(clmGpu)}\ntrain cpu    CLM ${report(clmCpu)}`);
    console.log(`train webgpu SLM ${report(slmGpu)}\ntrain cpu    SLM ${report(slmCpu)}`);
  });
});

describe("no leaks", () => {
  const held = () => ({ tensors: tf.memory().numTensors, buffers: webgpuBufferCount().used });

  test("100 generate calls: tensors and GPU buffers flat", async () => {
    const model = await CausalLM.load(STORIES);
    const prompt = [1, 100, 200, 300];
    await model.generateAsync([prompt], { maxNewTokens: 3, eosTokenId: null });
    const start = held();
    for (let i = 0; i < 100; i++) await model.generateAsync([prompt], { maxNewTokens: 3, eosTokenId: null });
    const end = held();
    expect(end.tensors).toBe(start.tensors);
    expect(end.buffers).toBeLessThanOrEqual(start.buffers);
    model.dispose();
  });

  test("200 SLM training steps: tensors and GPU buffers flat", async () => {
    const model = await CausalLM.load(join(MODELS, "llama-gqa-f32"));
    const [B, T] = [2, 8];
    const batch = {
      batch: B,
      time: T,
      ids: Int32Array.from({ length: B * T }, (_, i) => (i * 37) % model.config.vocabSize),
      refLoss: new Float32Array(B * (T - 1)).fill(1),
    };
    const optimizer = new AdamW(model.variables, { lr: 1e-3 });
    const step = async () => {
      const r = await batchGradients(model, [batch], { ratio: 0.6 });
      const { grads } = await clipGradNormAsync(r.grads, 1.0);
      optimizer.step(grads);
      for (const g of grads.values()) g.dispose();
    };
    await step();
    const start = held();
    for (let i = 0; i < 199; i++) await step();
    const end = held();
    expect(end.tensors).toBe(start.tensors);
    // In-use buffers include ones whose release waits on submitted work: the count may dip, it must not grow.
    expect(end.buffers).toBeLessThanOrEqual(start.buffers);
    optimizer.dispose();
    model.dispose();
  });
});
