/**
 * Native CPU fast path benchmark (@rho1/tfjs-native) against its anchors, in one run:
 *   1. sgemm GFLOP/s on the benchmark Llama's products, forward and backward: the built-in SGEMM vs OpenBLAS (both
 *      through bun:ffi, interleaved, best of --reps), and vs the stock tfjs `cpu` matmul at 1024³;
 *   2. per-kernel forward+backward timings at the benchmark model's shapes: native vs the pure-tfjs composite
 *      (the same @rho1/transformer op with the native kernels unregistered);
 *   3. the benchmark Llama (hidden 256, 4 layers, 4 heads, 2 KV heads, FFN 688, vocab 32000, batch 8×256): train
 *      (forward + backward + AdamW) and score tokens/s with native on, off (smaller batch: the stock path is ~100×
 *      slower) and PyTorch (/usr/bin/python3, same threads and OPENBLAS_CORETYPE);
 *   4. a per-kernel profile of one train + score step; 5. tensor count and RSS over 200 training steps.
 *
 *   bun benchmarks/native/run.ts [--part all|sgemm|kernels|model|profile|soak] [--vocab 32000] [--batch 8] [--seq 256]
 *                                [--steps 3] [--reps 7] [--no-torch] [--no-off]
 * Set RHO1_OPENBLAS_CORETYPE (e.g. SKYLAKEX) to pick OpenBLAS's kernel for both sides, RHO1_BLAS=builtin to run the
 * model on the built-in SGEMM alone.
 */
import { join } from "node:path";
import { nativeStatus, registerNativeKernels, unregisterNativeKernels, withBlas } from "@rho1/tfjs-native";
import { AdamW } from "@rho1/train";
import { CausalLM, ops, parseConfig, tf } from "@rho1/transformer";
import { benchArgs } from "../lib/args.ts";

const args = benchArgs(
  {
    part: { type: "string", default: "all" },
    vocab: { type: "string", default: "32000" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "256" },
    steps: { type: "string", default: "3" },
    reps: { type: "string", default: "7" },
    "no-torch": { type: "boolean", default: false },
    "no-off": { type: "boolean", default: false },
  },
  {
    usage:
      "@rho1/tfjs-native's CPU fast path: sgemm GFLOP/s, per-kernel timings, benchmark-Llama train/score tokens/s, profile and soak; anchors: the stock tfjs cpu path (native off) and PyTorch, same run.",
    describe: {
      part: "all, sgemm, kernels, model, profile or soak",
      vocab: "vocabulary size of the benchmark Llama",
      batch: "sequences per batch",
      seq: "tokens per sequence",
      steps: "timed steps per side",
      reps: "timed calls per BLAS and sgemm shape (the fastest counts)",
      "no-torch": "skip the PyTorch anchor",
      "no-off": "skip the native-off (stock tfjs) run",
    },
  },
);
const part = args.part ?? "all";
const vocab = Number(args.vocab);
const batch = Number(args.batch);
const seq = Number(args.seq);
const steps = Number(args.steps);
const reps = Number(args.reps);
const ratios: string[] = [];

await tf.setBackend("cpu");
if (!(await registerNativeKernels())) {
  console.error("native kernels unavailable: nothing to benchmark");
  process.exit(1);
}
const status = nativeStatus();
console.log(
  `machine: ${navigator.hardwareConcurrency} threads; BLAS: ${status.blas} (RHO1_BLAS=${status.blasMode}); ` +
    `OpenBLAS ${status.openblas ?? "not loaded"}, OPENBLAS_CORETYPE=${status.coretype ?? "(unset)"}`,
);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median seconds of fn over reps after one warm-up (or until budget seconds have passed). */
function time(fn: () => void, reps: number, budget = 20): number {
  fn();
  const out: number[] = [];
  const start = performance.now();
  for (let i = 0; i < reps && (performance.now() - start) / 1000 < budget; i++) {
    const t0 = performance.now();
    fn();
    out.push((performance.now() - t0) / 1000);
  }
  return median(out);
}

async function withStock<T>(fn: () => T): Promise<T> {
  unregisterNativeKernels();
  try {
    return fn();
  } finally {
    await registerNativeKernels();
  }
}

// ---- 1. sgemm ----
if (part === "all" || part === "sgemm") {
  const openblas = status.openblas != null;
  console.log(
    `\n## sgemm GFLOP/s (float32, 2048 tokens): built-in ${status.gemmKernel}` +
      (openblas
        ? ` vs OpenBLAS ${status.corename}, interleaved, best of ${reps} each`
        : " (OpenBLAS not loaded)"),
  );
  // The benchmark Llama's products (y = x·Wᵀ) and their gradients (dX = dY·W, dW = dYᵀ·X).
  const T = 2048;
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["proj 768 fwd  x·Wᵀ", [T, 256], [768, 256], false, true],
    ["proj 768 bwd  dY·W", [T, 768], [768, 256], false, false],
    ["proj 768 bwd  dYᵀ·X", [T, 768], [T, 256], true, false],
    ["ffn 688 down  x·Wᵀ", [T, 688], [256, 688], false, true],
    ["lm_head fwd   x·Wᵀ", [T, 256], [vocab, 256], false, true],
    ["lm_head bwd   dY·W", [T, vocab], [vocab, 256], false, false],
    ["lm_head bwd   dYᵀ·X", [T, vocab], [T, 256], true, false],
    ["decode 1 row  x·Wᵀ", [1, 256], [vocab, 256], false, true],
  ];
  const worst: number[] = [];
  const worstCpu: number[] = [];
  for (const [label, sa, sb, ta, tb] of cases) {
    const a = tf.randomNormal(sa);
    const b = tf.randomNormal(sb);
    const [m, k] = ta ? [sa[1], sa[0]] : sa;
    const n = tb ? sb[0] : sb[1];
    const flops = 2 * m * n * k;
    const run = () => tf.matMul(a, b, ta, tb).dispose();
    const sides = openblas ? (["builtin", "openblas"] as const) : (["builtin"] as const);
    // Wall time and process CPU time (both threads; the pools sleep between calls) per call, fastest of each: on
    // a machine shared with other jobs the CPU time is the steadier measure of the work a BLAS needs.
    const wall = sides.map(() => Number.POSITIVE_INFINITY);
    const cpu = sides.map(() => Number.POSITIVE_INFINITY);
    for (const side of sides) withBlas(side, run); // warm-up: output arrays, page faults, OpenBLAS's threads
    for (let rep = 0; rep < reps; rep++) {
      sides.forEach((side, i) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        withBlas(side, run);
        wall[i] = Math.min(wall[i], (performance.now() - t0) / 1000);
        const c1 = process.cpuUsage(c0);
        cpu[i] = Math.min(cpu[i], (c1.user + c1.system) / 1e6);
      });
    }
    const gf = wall.map((t) => flops / t / 1e9);
    const shape = `${m}×${n}×${k}`;
    let line = `${label.padEnd(20)} ${shape.padEnd(18)} built-in ${gf[0].toFixed(1).padStart(6)}`;
    if (openblas) {
      const perCore = cpu.map((t) => flops / t / 1e9);
      line +=
        `  OpenBLAS ${gf[1].toFixed(1).padStart(6)}  wall ×${(gf[0] / gf[1]).toFixed(2)}` +
        ` | per CPU-second ${perCore[0].toFixed(1).padStart(6)} vs ${perCore[1].toFixed(1).padStart(6)}` +
        ` ×${(perCore[0] / perCore[1]).toFixed(2)}`;
      worst.push(gf[0] / gf[1]);
      worstCpu.push(perCore[0] / perCore[1]);
    }
    console.log(line);
    tf.dispose([a, b]);
  }
  const summary = (rs: number[]) =>
    `min ×${Math.min(...rs).toFixed(2)}, geomean ×${Math.exp(rs.reduce((acc, r) => acc + Math.log(r), 0) / rs.length).toFixed(2)}`;
  if (worst.length) {
    ratios.push(`sgemm built-in/OpenBLAS over ${worst.length} shapes, wall GFLOP/s: ${summary(worst)}`);
    ratios.push(
      `sgemm built-in/OpenBLAS over ${worst.length} shapes, GFLOP per CPU-second: ${summary(worstCpu)}`,
    );
  }
  {
    const a = tf.randomNormal([1024, 1024]);
    const b = tf.randomNormal([1024, 1024]);
    const run = () => tf.matMul(a, b, false, true).dispose();
    const ours = time(run, 5);
    const stock = await withStock(() => time(run, 1, 10));
    console.log(
      `1024³ (${status.blas}): native ${((2 * 1024 ** 3) / ours / 1e9).toFixed(1)}, stock tfjs ` +
        `${((2 * 1024 ** 3) / stock / 1e9).toFixed(2)}, ×${(stock / ours).toFixed(0)}`,
    );
    ratios.push(`sgemm 1024³ native/stock: ×${(stock / ours).toFixed(0)}`);
    tf.dispose([a, b]);
  }
}

// ---- 2. kernels ----
if (part === "all" || part === "kernels") {
  const [b, t, nh, nkv, d, h, f] = [batch, seq, 4, 2, 64, 256, 688];
  console.log(
    `\n## kernels at B=${b} T=${t} H=${h} heads ${nh}/${nkv} FFN ${f} vocab ${vocab}: forward+backward ms`,
  );
  const x = tf.randomNormal([b, t, h]);
  const w = tf.ones([h]);
  const q = tf.randomNormal([b, t, nh, d]);
  const k = tf.randomNormal([b, t, nkv, d]);
  const v = tf.randomNormal([b, t, nkv, d]);
  const mask = tf.ones([b, t]);
  const pos = tf.tensor2d(
    Array.from({ length: b * t }, (_, i) => i % t),
    [b, t],
    "int32",
  );
  const g = tf.randomNormal([b, t, f]);
  const u = tf.randomNormal([b, t, f]);
  const logits = tf.randomNormal([b * t, vocab]);
  const labels = tf.randomUniform([b * t], 0, vocab, "int32");
  const table = tf.randomNormal([vocab, h]);
  const ids = tf.randomUniform([b, t], 0, vocab, "int32");
  // forward + backward with an explicit all-ones cotangent (a tf.sum would add stock broadcasting ops to the timing).
  const fwdBwd = (fn: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]) => {
    const dy = tf.tidy(() => tf.onesLike(fn(...xs)));
    return () =>
      tf.tidy(() => {
        const grads = tf.grads((...a: tf.Tensor[]) => fn(...a))(xs, dy);
        for (const gr of grads) gr.dataSync();
      });
  };
  const cases: [string, () => void][] = [
    ["rmsNorm", fwdBwd((a, c) => ops.rmsNorm(a, c as tf.Tensor1D, 1e-5), [x, w])],
    ["rope", fwdBwd((a) => ops.rope(a as tf.Tensor4D, pos as tf.Tensor2D, 10000, null), [q])],
    [
      "attention",
      fwdBwd(
        (a, c, e) =>
          ops.attention(a as tf.Tensor4D, c as tf.Tensor4D, e as tf.Tensor4D, mask as tf.Tensor2D, {
            scale: 0.125,
            queryOffset: 0,
          }),
        [q, k, v],
      ),
    ],
    ["swiglu", fwdBwd((a, c) => ops.swiglu(a, c), [g, u])],
    ["crossEntropy", fwdBwd((a) => ops.crossEntropy(a as tf.Tensor2D, labels as tf.Tensor1D), [logits])],
    ["embedding", fwdBwd((a) => ops.embedding(a as tf.Tensor2D, ids), [table])],
  ];
  let nativeTotal = 0;
  let stockTotal = 0;
  for (const [name, fn] of cases) {
    const ours = time(fn, 5);
    const stock = await withStock(() => time(fn, 2, 15));
    nativeTotal += ours;
    stockTotal += stock;
    console.log(
      `${name.padEnd(13)} native ${(ours * 1000).toFixed(1).padStart(8)}  composite ${(stock * 1000).toFixed(1).padStart(8)}  ×${(stock / ours).toFixed(1)}`,
    );
  }
  // AdamW over the model's 19.3M parameters (at vocab 32000), as one flat tensor.
  const n = 2 * vocab * h + 4 * (2 * h * h + 2 * h * 128 + 3 * h * f);
  const [p, gr, m1, m2] = [tf.randomNormal([n]), tf.randomNormal([n]), tf.zeros([n]), tf.zeros([n])];
  const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 1 };
  const adam = time(
    () => tf.dispose(tf.engine().runKernel("Rho1AdamW", { param: p, grad: gr, m: m1, v: m2 }, attrs)),
    5,
  );
  console.log(`adamW (${(n / 1e6).toFixed(1)}M) native ${(adam * 1000).toFixed(1).padStart(8)}`);
  ratios.push(`kernels total (excl. AdamW) composite/native: ×${(stockTotal / nativeTotal).toFixed(1)}`);
}

// ---- 3. the model ----
function benchConfig(v: number) {
  return parseConfig(
    {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      hidden_size: 256,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 688,
      vocab_size: v,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 2048,
      tie_word_embeddings: false,
      hidden_act: "silu",
    },
    "<benchmark>",
  );
}

function randomIds(b: number, t: number, v: number, seed: number): tf.Tensor2D {
  let s = seed;
  const data = new Int32Array(b * t);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s % v;
  }
  return tf.tensor2d(data, [b, t], "int32");
}

/** One optimizer step on the mean CE over valid tokens (forward + backward + AdamW); returns the loss to dispose. */
function trainStep(model: CausalLM, opt: AdamW, vars: tf.Variable[], ids: tf.Tensor2D): tf.Scalar {
  const { value, grads } = tf.variableGrads(() => {
    const { ce, valid } = model.tokenLosses(ids);
    return tf.div(tf.sum(tf.mul(ce, valid)), tf.sum(valid)) as tf.Scalar;
  }, vars);
  const named = new Map<string, tf.Tensor>();
  for (const [name, variable] of model.variables) named.set(name, grads[variable.name]);
  opt.step(named);
  tf.dispose(grads);
  return value;
}

/** Median train-step and score-step seconds for batch b × t. */
function modelSteps(model: CausalLM, b: number, t: number, reps: number): { train: number; score: number } {
  const opt = new AdamW(model.variables, { lr: 1e-4, weightDecay: 0.1 });
  const vars = [...model.variables.values()];
  let seed = 1;
  const train = () => {
    const ids = randomIds(b, t, model.config.vocabSize, seed++);
    const value = trainStep(model, opt, vars, ids);
    value.dataSync();
    tf.dispose([value, ids]);
  };
  const score = () => {
    const ids = randomIds(b, t, model.config.vocabSize, seed++);
    const { ce, valid } = model.tokenLosses(ids);
    ce.dataSync();
    tf.dispose([ce, valid, ids]);
  };
  if (reps === 0) {
    train();
    score();
    return { train: 0, score: 0 };
  }
  const trainS = time(train, reps, 120);
  const scoreS = time(score, reps, 60);
  return { train: trainS, score: scoreS };
}

if (part === "all" || part === "model") {
  const config = benchConfig(vocab);
  const tokens = batch * seq;
  // FLOPs per trained token ≈ 6 × (non-embedding parameters) + attention (6·2·T·H per layer); the floor uses the
  // sgemm rate measured below on the lm_head shape.
  const params = 4 * (2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 688) + 256 * vocab;
  const flopsPerToken = 6 * params + 4 * 6 * 2 * seq * 256;
  console.log(`\n## model: hidden 256, 4 layers, 4/2 heads, FFN 688, vocab ${vocab}, batch ${batch}×${seq}`);

  // Agreement check: native vs stock on a small batch (the same weights).
  {
    const small = CausalLM.random(config, 3);
    const ids = randomIds(2, 16, vocab, 99);
    const nat = small.tokenLosses(ids);
    const natCe = nat.ce.dataSync().slice();
    const ref = await withStock(() => small.tokenLosses(ids).ce.dataSync().slice());
    let worst = 0;
    for (let i = 0; i < ref.length; i++)
      worst = Math.max(worst, Math.abs(natCe[i] - ref[i]) / Math.abs(ref[i]));
    console.log(`per-token CE native vs pure tfjs (2×16 tokens): max rel diff ${worst.toExponential(2)}`);
    tf.dispose([nat.ce, nat.valid, ids]);
    small.dispose();
  }

  const model = CausalLM.random(config, 1);
  const ours = modelSteps(model, batch, seq, steps);
  const memory = tf.memory().numTensors;
  console.log(
    `native: train ${(tokens / ours.train).toFixed(0)} tokens/s (${ours.train.toFixed(2)} s/step), ` +
      `score ${(tokens / ours.score).toFixed(0)} tokens/s; tensors live ${memory}; ` +
      `${((flopsPerToken * tokens) / ours.train / 1e9).toFixed(1)} GFLOP/s effective in training`,
  );

  let off: { train: number; score: number } | null = null;
  const offBatch = 1;
  const offSeq = Math.min(seq, 64);
  if (!args["no-off"]) {
    off = await withStock(() => modelSteps(model, offBatch, offSeq, 1));
    console.log(
      `native off (pure tfjs cpu, batch ${offBatch}×${offSeq}): train ${((offBatch * offSeq) / off.train).toFixed(1)} ` +
        `tokens/s, score ${((offBatch * offSeq) / off.score).toFixed(1)} tokens/s`,
    );
  }
  model.dispose();

  let torch: { train_tps: number; score_tps: number } | null = null;
  if (!args["no-torch"]) {
    // PyTorch tuned like ours: passive OpenMP waits, OpenBLAS idle threads sleeping at once, the same core type.
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      OMP_WAIT_POLICY: "PASSIVE",
      OPENBLAS_THREAD_TIMEOUT: process.env.OPENBLAS_THREAD_TIMEOUT || "4",
    };
    if (status.coretype) env.OPENBLAS_CORETYPE = status.coretype;
    const py = Bun.spawnSync(
      [
        "/usr/bin/python3",
        join(import.meta.dir, "llama_train_torch.py"),
        ...["256", "4", "4", "2", "688", String(vocab), String(batch), String(seq), String(steps)],
        String(status.threads ?? 2),
      ],
      { env, stderr: "pipe" },
    );
    if (py.exitCode === 0) {
      torch = JSON.parse(py.stdout.toString().trim().split("\n").pop() ?? "{}");
      console.log(
        `PyTorch (OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=${env.OPENBLAS_THREAD_TIMEOUT}): train ${torch?.train_tps.toFixed(0)} tokens/s, score ${torch?.score_tps.toFixed(0)} tokens/s`,
      );
    } else {
      console.log(`PyTorch failed: ${py.stderr.toString().trim().split("\n").slice(-3).join(" | ")}`);
    }
  }
  if (off) {
    ratios.push(
      `train native/off: ×${(tokens / ours.train / ((offBatch * offSeq) / off.train)).toFixed(0)}; ` +
        `score native/off: ×${(tokens / ours.score / ((offBatch * offSeq) / off.score)).toFixed(0)}`,
    );
  }
  if (torch) {
    ratios.push(
      `train native/PyTorch: ${(tokens / ours.train / torch.train_tps).toFixed(2)}; ` +
        `score native/PyTorch: ${(tokens / ours.score / torch.score_tps).toFixed(2)}`,
    );
  }
}

// ---- 4. profile: seconds per kernel over one native train step (every cpu kernel wrapped with a timer) ----
if (part === "all" || part === "profile") {
  const model = CausalLM.random(benchConfig(vocab), 1);
  modelSteps(model, batch, seq, 1); // warm-up outside the profile
  const totals = new Map<string, { ms: number; calls: number }>();
  const originals: tf.KernelConfig[] = [];
  for (const config of tf.getKernelsForBackend("cpu")) {
    originals.push(config);
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, "cpu");
    tf.registerKernel({
      ...config,
      kernelFunc: (a) => {
        const t0 = performance.now();
        const out = inner(a);
        const e = totals.get(config.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        totals.set(config.kernelName, e);
        return out;
      },
    });
  }
  const t0 = performance.now();
  modelSteps(model, batch, seq, 0);
  const wall = performance.now() - t0;
  for (const config of originals) {
    tf.unregisterKernel(config.kernelName, "cpu");
    tf.registerKernel(config);
  }
  model.dispose();
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((acc, [, e]) => acc + e.ms, 0);
  console.log(
    `\n## profile of one train + one score step (${(wall / 1000).toFixed(2)} s wall, ${(inKernels / 1000).toFixed(2)} s in kernels)`,
  );
  for (const [name, e] of rows.slice(0, 16)) {
    console.log(
      `${name.padEnd(22)} ${(e.ms / 1000).toFixed(3).padStart(7)} s ${String(e.calls).padStart(5)} calls ${((100 * e.ms) / wall).toFixed(1).padStart(5)}%`,
    );
  }
}

// ---- 5. soak: tensor count and RSS over 200 native training steps (small batch) ----
if (part === "all" || part === "soak") {
  const model = CausalLM.random(benchConfig(vocab), 2);
  const opt = new AdamW(model.variables, { lr: 1e-4, weightDecay: 0.1 });
  const vars = [...model.variables.values()];
  const rows: string[] = [];
  let tensors0 = 0;
  let rss0 = 0;
  let tensors1 = 0;
  let rss1 = 0;
  for (let step = 1; step <= 200; step++) {
    const ids = randomIds(2, 64, vocab, step);
    tf.dispose([trainStep(model, opt, vars, ids), ids]);
    if (step === 20) {
      Bun.gc(true);
      [tensors0, rss0] = [tf.memory().numTensors, process.memoryUsage().rss];
    }
    if (step % 60 === 20 || step === 200) {
      Bun.gc(true);
      const rss = process.memoryUsage().rss;
      [tensors1, rss1] = [tf.memory().numTensors, rss];
      rows.push(`step ${step}: tensors ${tf.memory().numTensors}, RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
    }
  }
  model.dispose();
  console.log(`\n## soak: 200 native training steps (2×64 tokens, vocab ${vocab})\n${rows.join("\n")}`);
  ratios.push(
    `soak steps 20→200: tensors ${tensors0}→${tensors1}, RSS ${(rss0 / 2 ** 20).toFixed(0)}→${(rss1 / 2 ** 20).toFixed(0)} MiB`,
  );
}

console.log(`\n## ratios\n${ratios.join("\n")}`);
