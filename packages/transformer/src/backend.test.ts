import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";

const INDEX = join(import.meta.dir, "index.ts");

/** Runs setupBackend in a fresh process (the choice is process-wide and made once). */
function run(body: string, env: Record<string, string | undefined> = {}) {
  const script = `import { registerBackendExtension, setupBackend } from ${JSON.stringify(INDEX)};\n${body}`;
  const proc = Bun.spawnSync(["bun", "-e", script], {
    env: { ...process.env, RHO1_BACKEND: undefined, ...env },
    cwd: import.meta.dir,
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("setupBackend", () => {
  test("falls back to cpu with a one-line notice when tfjs-node is absent, and is idempotent", () => {
    const r = run("console.log(await setupBackend(), await setupBackend());");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("cpu cpu");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual(["rho1: TensorFlow.js backend cpu (@tensorflow/tfjs-node not installed)"]);
  });

  test("a registered extension is used; one that throws or declines is skipped quietly", () => {
    const ok = run(`registerBackendExtension("test", async () => true); console.log(await setupBackend());`);
    expect(ok.stdout.trim()).toBe("cpu");
    expect(ok.stderr.trim()).toBe(
      "rho1: TensorFlow.js backend cpu + test kernels (@tensorflow/tfjs-node not installed)",
    );
    const described = run(`registerBackendExtension("test", () => "fast sgemm"); await setupBackend();`);
    expect(described.stderr.trim()).toBe(
      "rho1: TensorFlow.js backend cpu + test kernels (fast sgemm) (@tensorflow/tfjs-node not installed)",
    );
    const bad = run(
      `registerBackendExtension("a", () => { throw new Error("boom"); }); registerBackendExtension("b", () => false);
       console.log(await setupBackend());`,
    );
    expect(bad.code).toBe(0);
    expect(bad.stdout.trim()).toBe("cpu");
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).not.toContain("boom");
  }, 30_000);

  test("RHO1_BACKEND forces a choice, and an unavailable or unknown one is an error naming it", () => {
    const cpu = run("console.log(await setupBackend());", { RHO1_BACKEND: "cpu" });
    expect(cpu.stdout.trim()).toBe("cpu");
    expect(cpu.stderr.trim()).toBe("rho1: TensorFlow.js backend cpu");
    const node = run("await setupBackend().catch((e) => console.log(e.message));", { RHO1_BACKEND: "node" });
    expect(node.stdout.trim()).toBe("RHO1_BACKEND=node: @tensorflow/tfjs-node not installed");
    const bogus = run("await setupBackend().catch((e) => console.log(e.message));", { RHO1_BACKEND: "tpu" });
    expect(bogus.stdout.trim()).toBe(
      "RHO1_BACKEND=tpu is not one of node-gpu, webgpu, node, native, wasm, cpu",
    );
  });
});

const MODELS = join(import.meta.dir, "../../../../shared/fixtures/models");
const haveShared = fixturesPresent(MODELS);

test.skipIf(!haveShared)("the opt-in wasm backend matches the golden logits and greedy output too", () => {
  const r = run(
    `import { openSafetensors } from "@rho1/safetensors";
     import { CausalLM, tf } from ${JSON.stringify(INDEX)};
     await setupBackend();
     const dir = ${JSON.stringify(join(MODELS, "llama-gqa-f32"))};
     const model = await CausalLM.load(dir);
     const e = openSafetensors(dir + ".expected.safetensors");
     const ids = tf.tensor2d(Int32Array.from(e.readFloat32("input_ids")), [3, 24], "int32");
     const logits = model.logits(ids, tf.tensor2d(e.readFloat32("attention_mask"), [3, 24])).dataSync();
     const ref = e.readFloat32("logits_f64");
     let num = 0, den = 0;
     for (let i = 0; i < ref.length; i++) { num += (logits[i] - ref[i]) ** 2; den += ref[i] ** 2; }
     const prompt = Array.from(e.readFloat32("greedy_prompt"));
     const out = model.generate([prompt], { maxNewTokens: 16, eosTokenId: null })[0].ids;
     console.log(JSON.stringify({ backend: tf.getBackend(), err: Math.sqrt(num / den),
       same: JSON.stringify([...prompt, ...out]) === JSON.stringify(Array.from(e.readFloat32("greedy_output"))) }));`,
    { RHO1_BACKEND: "wasm" },
  );
  expect(r.stderr.trim()).toBe("rho1: TensorFlow.js backend wasm");
  const result = JSON.parse(r.stdout.trim());
  expect(result.backend).toBe("wasm");
  expect(result.err).toBeLessThan(1e-5);
  expect(result.same).toBe(true);
});
