import { beforeAll, describe, expect, test } from "bun:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ADAMW,
  ATTENTION,
  CONTRACT_KERNELS,
  CROSS_ENTROPY,
  EMBEDDING,
  nativeAvailability,
  nativeStatus,
  RMS_NORM,
  ROPE,
  registerNativeKernels,
  SWIGLU,
  unregisterNativeKernels,
} from "./index.ts";
import { ints, uniform } from "./test-helpers.ts";

const avail = nativeAvailability();
if (!avail.ok) console.log(`skipping native registration tests: ${avail.reason}`);
const probe = join(import.meta.dir, "fixtures", "register-probe.ts");

function runProbe(env: Record<string, string | undefined>): { out: Record<string, unknown>; stderr: string } {
  const merged: Record<string, string | undefined> = { ...process.env, RHO1_NATIVE: undefined, ...env };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  const proc = Bun.spawnSync([process.execPath, probe], {
    env: merged as Record<string, string>,
    stderr: "pipe",
  });
  const stdout = proc.stdout.toString().trim().split("\n");
  return { out: JSON.parse(stdout[stdout.length - 1]), stderr: proc.stderr.toString() };
}

const notices = (stderr: string) =>
  stderr.split("\n").filter((l) => l.startsWith("rho1: native kernels off"));

describe("falling back to pure tfjs", () => {
  test("RHO1_NATIVE=0 registers nothing and prints one notice", () => {
    const { out, stderr } = runProbe({ RHO1_NATIVE: "0" });
    expect(out).toEqual({
      first: false,
      second: false,
      registered: false,
      reason: "disabled by RHO1_NATIVE=0",
      kernel: false,
    });
    expect(notices(stderr)).toHaveLength(1);
  }, 30_000);

  test.skipIf(!avail.ok)(
    "without OpenBLAS the built-in SGEMM runs; RHO1_BLAS=openblas then gives false",
    () => {
      // (RHO1_NATIVE is removed from the probes' environment unless a test sets it.)
      const missing = "/nonexistent/libopenblas.so.0";
      const builtin = runProbe({ RHO1_OPENBLAS: missing, RHO1_BLAS: undefined });
      expect(builtin.out.first).toBe(true);
      expect(String(builtin.out.blas)).toMatch(/^built-in SGEMM \S+ \S+, \d+ threads?$/);
      expect(notices(builtin.stderr)).toHaveLength(0);
      const { out, stderr } = runProbe({ RHO1_OPENBLAS: missing, RHO1_BLAS: "openblas" });
      expect(out.first).toBe(false);
      expect(String(out.reason)).toContain("RHO1_BLAS=openblas but OpenBLAS was not found");
      expect(notices(stderr)).toHaveLength(1);
    },
    30_000,
  );

  test("an unknown RHO1_BLAS is an error naming the accepted values", () => {
    const proc = Bun.spawnSync([process.execPath, probe], {
      env: { ...(process.env as Record<string, string>), RHO1_BLAS: "mkl" },
      stderr: "pipe",
    });
    expect(proc.exitCode).not.toBe(0);
    expect(proc.stderr.toString()).toContain("RHO1_BLAS=mkl: expected one of builtin, openblas, auto");
  }, 30_000);

  test.skipIf(!avail.ok)("a missing compiler with an empty cache gives false with the reason", () => {
    const cache = mkdtempSync(join(tmpdir(), "rho1-native-"));
    try {
      const { out } = runProbe({ RHO1_CACHE_DIR: cache, CC: "/nonexistent/cc", PATH: "/nonexistent" });
      expect(out.first).toBe(false);
      expect(String(out.reason)).toContain("no C compiler found: install gcc or clang");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!avail.ok)("registration", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    expect(await registerNativeKernels()).toBe(true);
  });

  test("compiles into a fresh cache dir once, then loads from it, in a subprocess", () => {
    const cache = mkdtempSync(join(tmpdir(), "rho1-native-"));
    try {
      const a = runProbe({ RHO1_CACHE_DIR: cache, RHO1_BLAS: "auto" }); // whatever BLAS the suite pins
      expect(a.out).toMatchObject({
        first: true,
        second: true,
        registered: true,
        reason: null,
        kernel: true,
      });
      expect(String(a.out.blas)).toContain("built-in SGEMM");
      const b = runProbe({ RHO1_CACHE_DIR: cache, CC: "/nonexistent/cc", PATH: "/nonexistent" });
      expect(b.out.first).toBe(true); // the cached library needs no compiler
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 30_000);

  test("idempotent, reports status, and unregister restores the stock kernels", async () => {
    expect(await registerNativeKernels()).toBe(true);
    const status = nativeStatus();
    expect(status.registered).toBe(true);
    expect(status.threads).toBeGreaterThanOrEqual(1);
    for (const name of [...CONTRACT_KERNELS, "BatchMatMul", "_FusedMatMul"])
      expect(status.kernels).toContain(name);
    const native = tf.getKernel("BatchMatMul", "cpu");
    unregisterNativeKernels();
    expect(tf.getKernel(RMS_NORM, "cpu")).toBeUndefined();
    expect(tf.getGradient(RMS_NORM)).toBeUndefined();
    const stock = tf.getKernel("BatchMatMul", "cpu");
    expect(stock).toBeDefined();
    expect(stock).not.toBe(native);
    expect(nativeStatus().registered).toBe(false);
    expect(await registerNativeKernels()).toBe(true);
    expect(tf.getKernel(RMS_NORM, "cpu")).toBeDefined();
  });

  test("no tensor leaks over repeated training steps through every kernel", () => {
    const [b, t, nh, nkv, d, v] = [2, 9, 4, 2, 8, 23];
    const h = nh * d;
    const table = tf.variable(uniform([v, h], 1));
    const norm = tf.variable(uniform([h], 2, 0.5, 1.5));
    const wq = tf.variable(uniform([h, h], 3, -0.2, 0.2));
    const wkv = tf.variable(uniform([h, 2 * nkv * d], 4, -0.2, 0.2));
    const wff = tf.variable(uniform([h, 2 * h], 5, -0.2, 0.2));
    const head = tf.variable(uniform([h, v], 6, -0.2, 0.2));
    const vars = [table, norm, wq, wkv, wff, head];
    const moments = vars.map((x) => [tf.zeros(x.shape), tf.zeros(x.shape)]);
    const ids = ints([b, t], 7, 0, v);
    const labels = ints([b * t], 8, -1, v);
    const positions = tf.tensor2d(
      Array.from({ length: b * t }, (_, i) => i % t),
      [b, t],
      "int32",
    );
    const mask = tf.ones([b, t]);
    const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
      tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
    const step = (n: number) => {
      const { value, grads } = tf.variableGrads(() => {
        const x = run(EMBEDDING, { table, ids });
        const xn = run(RMS_NORM, { x, weight: norm }, { eps: 1e-6 });
        const q = tf.reshape(tf.matMul(xn, wq), [b, t, nh, d]);
        const [k, vv] = tf.split(tf.reshape(tf.matMul(xn, wkv), [b, t, 2 * nkv, d]), 2, 2);
        const rq = run(ROPE, { x: q, positions }, { theta: 1e4, scaling: null });
        const rk = run(ROPE, { x: k, positions }, { theta: 1e4, scaling: null });
        const att = run(ATTENTION, { q: rq, k: rk, v: vv, keyMask: mask }, { scale: 0.3, queryOffset: 0 });
        const [g, u] = tf.split(tf.matMul(tf.reshape(att, [b, t, h]), wff), 2, 2);
        const y = tf.add(run(SWIGLU, { gate: g, up: u }), x);
        const logits = tf.reshape(tf.matMul(y, head), [b * t, v]);
        return tf.mean(run(CROSS_ENTROPY, { logits, labels })) as tf.Scalar;
      }, vars);
      vars.forEach((x, i) => {
        const [p, m, vv] = tf
          .engine()
          .runKernel(
            ADAMW,
            { param: x, grad: grads[x.name], m: moments[i][0], v: moments[i][1] },
            { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: n },
          ) as tf.Tensor[];
        x.assign(p);
        p.dispose();
        tf.dispose(moments[i]);
        moments[i] = [m, vv];
      });
      tf.dispose(grads);
      const loss = value.dataSync()[0];
      value.dispose();
      return loss;
    };
    const first = step(1);
    const count = tf.memory().numTensors;
    let last = first;
    for (let n = 2; n <= 30; n++) last = step(n);
    expect(tf.memory().numTensors).toBe(count);
    expect(last).toBeLessThan(first); // it trains
  });
});
