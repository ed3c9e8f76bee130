import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { openSafetensors } from "@rho1/safetensors";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, tf } from "./index.ts";

const SHARED = join(import.meta.dir, "../../../../shared");
const MODELS = join(SHARED, "fixtures/models");
const STORIES = join(import.meta.dir, "../../../models/stories260K");
const haveShared = fixturesPresent(MODELS);
if (!haveShared)
  console.warn(`skipping golden tests: ${MODELS} not found (the shared/ fixtures sit beside the repo)`);

tf.setBackend("cpu");

function relativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(ours.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function maxAbs(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(ours.length).toBe(ref.length);
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ours[i] - ref[i]));
  return m;
}

const ints = (x: Float32Array) => Array.from(x, (v) => Math.round(v));

describe
  .skipIf(!haveShared)
  .each(["llama-gqa-f32", "llama-tied-bf16-sharded", "llama-f16", "mistral-gqa-f32"])("golden %s", (name) => {
  test("logits, token losses, valid and greedy output match transformers", async () => {
    const model = await CausalLM.load(join(MODELS, name));
    const expected = openSafetensors(join(MODELS, `${name}.expected.safetensors`));
    const [b, t] = expected.info("input_ids").shape;
    const ids = tf.tensor2d(Int32Array.from(ints(expected.readFloat32("input_ids"))), [b, t], "int32");
    const mask = tf.tensor2d(expected.readFloat32("attention_mask"), [b, t]);

    const logits = model.logits(ids, mask);
    expect(logits.shape).toEqual([b, t, model.config.vocabSize]);
    expect(relativeError(logits.dataSync(), expected.readFloat32("logits_f64"))).toBeLessThan(1e-5);

    const { ce, valid } = model.tokenLosses(ids, mask);
    expect(ce.shape).toEqual([b, t - 1]);
    expect(maxAbs(ce.dataSync(), expected.readFloat32("token_loss"))).toBeLessThan(1e-5);
    expect(Array.from(valid.dataSync())).toEqual(Array.from(expected.readFloat32("valid")));

    const prompt = ints(expected.readFloat32("greedy_prompt"));
    const greedy = ints(expected.readFloat32("greedy_output"));
    const [out] = model.generate([prompt], { maxNewTokens: greedy.length - prompt.length, eosTokenId: null });
    expect([...prompt, ...out.ids]).toEqual(greedy);
    expect(out.finishReason).toBe("length");
    tf.dispose([ids, mask, logits, ce, valid]);
    model.dispose();
    expected.close();
  });
});

describe.skipIf(!haveShared)("golden stories260K (the embedded real model)", () => {
  let model: CausalLM;
  const prompts: number[][] = [];
  const greedy: number[][] = [];

  test("logits, token losses and 48-token greedy outputs (ids and text) match transformers", async () => {
    model = await CausalLM.load(STORIES);
    const expected = openSafetensors(join(MODELS, "stories260K.expected.safetensors"));
    const texts = JSON.parse(readFileSync(join(MODELS, "stories260K.expected.json"), "utf8")) as {
      prompt: string;
      greedy_text: string;
    }[];
    const tokenizer = await loadTokenizer(STORIES);
    for (let p = 0; p < texts.length; p++) {
      const ids = ints(expected.readFloat32(`p${p}.input_ids`));
      expect(tokenizer.encode(texts[p].prompt)).toEqual(ids);
      const input = tf.tensor2d([ids], undefined, "int32");
      const logits = model.logits(input);
      expect(relativeError(logits.dataSync(), expected.readFloat32(`p${p}.logits`))).toBeLessThan(1e-5);
      const { ce, valid } = model.tokenLosses(input);
      expect(maxAbs(ce.dataSync(), expected.readFloat32(`p${p}.token_loss`))).toBeLessThan(1e-5);
      const out = ints(expected.readFloat32(`p${p}.greedy_output`));
      const [res] = model.generate([ids], { maxNewTokens: out.length - ids.length });
      expect([...ids, ...res.ids]).toEqual(out);
      expect(tokenizer.decode([...ids, ...res.ids], { skipSpecialTokens: true })).toBe(texts[p].greedy_text);
      prompts.push(ids);
      greedy.push(res.ids);
      tf.dispose([input, logits, ce, valid]);
    }
    expect(prompts.length).toBe(4);
    expected.close();
  });

  test("batched prompts of different lengths give the unbatched greedy outputs", () => {
    expect(new Set(prompts.map((p) => p.length)).size).toBeGreaterThan(1);
    const batched = model.generate(prompts, { maxNewTokens: 48 });
    expect(batched.map((r) => r.ids)).toEqual(greedy);
  });

  test("left-padded logits equal unpadded ones at the valid positions", () => {
    const short = prompts[0];
    const pad = 3;
    const ids = tf.tensor2d([[0, 0, 0, ...short]], undefined, "int32");
    const mask = tf.tensor2d([[0, 0, 0, ...short.map(() => 1)]]);
    const padded = model.logits(ids, mask).dataSync();
    const plain = model.logits(tf.tensor2d([short], undefined, "int32")).dataSync();
    const v = model.config.vocabSize;
    // Relative to the largest logit: BLAS sums in float32 in an order that depends on the row count, so padding
    // changes the last bits (measured 1.1e-5 absolute on logits up to ~19 with the native kernels).
    const scale = Math.max(1, maxAbs(plain, new Float32Array(plain.length)));
    expect(maxAbs(padded.subarray(pad * v), plain) / scale).toBeLessThan(1e-6);
  });

  afterAll(() => model?.dispose());
});

describe.skipIf(!haveShared)("training gradients", () => {
  test("tokenLosses is differentiable: mean-CE gradients and their norm match PyTorch's (train fixture, ratio 1.0)", async () => {
    const model = await CausalLM.load(join(MODELS, "llama-gqa-f32"));
    const expected = openSafetensors(join(MODELS, "llama-gqa-f32.expected.safetensors"));
    const train = openSafetensors(
      join(SHARED, "fixtures/train/llama-gqa-f32.train_batch_ratio1.0.safetensors"),
    );
    const [b, t] = expected.info("input_ids").shape;
    const ids = tf.tensor2d(Int32Array.from(ints(expected.readFloat32("input_ids"))), [b, t], "int32");
    const mask = tf.tensor2d(expected.readFloat32("attention_mask"), [b, t]);
    const { value, grads } = tf.variableGrads(() => {
      const { ce, valid } = model.tokenLosses(ids, mask);
      return tf.div(tf.sum(ce), tf.sum(valid)) as tf.Scalar;
    }, [...model.variables.values()]);
    expect(Math.abs(value.dataSync()[0] - train.readFloat32("loss_step0")[0])).toBeLessThan(1e-5);
    // The fixture's grad.<param> are stored after clip-to-1.0: compare the total norm to grad_norm_step0 (before
    // clipping) and each gradient divided by it.
    let sq = 0;
    for (const g of Object.values(grads)) sq += tf.sum(tf.square(g)).dataSync()[0];
    const norm = Math.sqrt(sq);
    const refNorm = train.readFloat32("grad_norm_step0")[0];
    expect(Math.abs(norm - refNorm) / refNorm).toBeLessThan(1e-5);
    let checked = 0;
    for (const [name, variable] of model.variables) {
      const ref = train.readFloat32(`grad.${name}`);
      const ours = grads[variable.name].dataSync().map((x) => x / norm);
      expect(relativeError(ours, ref)).toBeLessThan(1e-4);
      checked++;
    }
    expect(checked).toBe(21);
    tf.dispose([ids, mask, value, ...Object.values(grads)]);
    model.dispose();
  });
});

describe.skipIf(!haveShared)("save and reload", () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "rho1-save-"));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function roundTrip(src: string, dtype: "F32" | "BF16", tokenizerDir?: string) {
    const model = await CausalLM.load(src);
    const dir = tmp();
    await model.save(dir, { dtype, tokenizerDir });
    const again = await CausalLM.load(dir);
    const ids = tf.tensor2d([[1, 5, 9, 3, 7, 2]], undefined, "int32");
    const a = model.logits(ids).dataSync();
    const b = again.logits(ids).dataSync();
    model.dispose();
    again.dispose();
    ids.dispose();
    return { a, b, dir };
  }

  test("F32 (v4 dialect, tied, tokenizer copied): identical logits, torch_dtype and dtype both set", async () => {
    const { a, b, dir } = await roundTrip(STORIES, "F32", STORIES);
    expect(Array.from(b)).toEqual(Array.from(a));
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config.torch_dtype).toBe("float32");
    expect(config.rope_theta).toBe(10000);
    expect(config.dtype).toBe("float32"); // transformers 5's name; 4.x reads torch_dtype
    expect(existsSync(join(dir, "tokenizer.json"))).toBe(true);
    expect(existsSync(join(dir, "tokenizer_config.json"))).toBe(true);
    const weights = openSafetensors(join(dir, "model.safetensors"));
    expect(weights.has("lm_head.weight")).toBe(false);
    expect(weights.info("model.embed_tokens.weight").dtype).toBe("F32");
  });

  test("BF16 of a bf16 checkpoint (v5 dialect): identical logits, dtype, torch_dtype and rope_parameters", async () => {
    const { a, b, dir } = await roundTrip(join(MODELS, "llama-tied-bf16-sharded"), "BF16");
    expect(Array.from(b)).toEqual(Array.from(a));
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config.dtype).toBe("bfloat16");
    expect(config.rope_parameters.rope_theta).toBe(500000);
    expect(config.torch_dtype).toBe("bfloat16"); // read by transformers 4.x
    expect(existsSync(join(dir, "generation_config.json"))).toBe(true);
    expect(openSafetensors(join(dir, "model.safetensors")).info("model.norm.weight").dtype).toBe("BF16");
  });

  test("sharded save (maxShardBytes), then a single-file save into the same folder removes the old shards", async () => {
    const model = await CausalLM.load(join(MODELS, "llama-gqa-f32"));
    const dir = tmp();
    await model.save(dir, { maxShardBytes: 100_000 });
    const sharded = readdirSync(dir).filter((f) => f.startsWith("model"));
    expect(sharded).toContain("model.safetensors.index.json");
    expect(sharded.length).toBeGreaterThan(3);
    const ids = tf.tensor2d([[1, 2, 3, 4]], undefined, "int32");
    const again = await CausalLM.load(dir);
    expect(Array.from(again.logits(ids).dataSync())).toEqual(Array.from(model.logits(ids).dataSync()));
    await model.save(dir);
    expect(readdirSync(dir).filter((f) => f.startsWith("model"))).toEqual(["model.safetensors"]);
    const single = await CausalLM.load(dir);
    expect(Array.from(single.logits(ids).dataSync())).toEqual(Array.from(model.logits(ids).dataSync()));
    for (const m of [model, again, single]) m.dispose();
    ids.dispose();
  });

  test("BF16 of an f32 model: reloaded logits close (weights rounded to bf16)", async () => {
    const { a, b } = await roundTrip(join(MODELS, "llama-gqa-f32"), "BF16");
    const err = relativeError(b, a);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(2e-2);
  });
});
