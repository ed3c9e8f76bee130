import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadTokenizer, type Tokenizer } from "@rho1/tokenizer";
import { CausalLM, NonFiniteLogitsError, parseConfig, tf } from "./index.ts";

tf.setBackend("cpu");
const STORIES = join(import.meta.dir, "../../../models/stories260K");

describe("generate on stories260K", () => {
  let model: CausalLM;
  let tok: Tokenizer;
  let prompt: number[];
  let greedy: number[];
  beforeAll(async () => {
    model = await CausalLM.load(STORIES);
    tok = await loadTokenizer(STORIES);
    prompt = tok.encode("Once upon a time");
    greedy = model.generate([prompt], { maxNewTokens: 20 })[0].ids;
  });
  afterAll(() => model.dispose());

  test("greedy: 20 new tokens, finish reason length, onToken sees each", () => {
    const seen: number[] = [];
    const [r] = model.generate([prompt], {
      maxNewTokens: 20,
      onToken: (row, id) => seen.push(row * 1000 + id),
    });
    expect(r.ids).toEqual(greedy);
    expect(r.ids.length).toBe(20);
    expect(r.finishReason).toBe("length");
    expect(seen).toEqual(greedy);
    expect(tok.decode([...prompt, ...greedy], { skipSpecialTokens: true })).toStartWith(
      "Once upon a time, there was a little girl named Lily",
    );
  });

  test("EOS ends a row (not included), other rows continue", () => {
    const eos = greedy[3];
    const cut = greedy.indexOf(eos);
    const [a, b] = model.generate([prompt, tok.encode("The cat")], {
      maxNewTokens: 20,
      eosTokenId: [eos, 99999],
    });
    expect(a.ids).toEqual(greedy.slice(0, cut));
    expect(a.finishReason).toBe("eos");
    expect(b.ids.length).toBeGreaterThan(0);
  });

  test("rows finishing early (EOS, stop, length) leave the batch; the others equal their unbatched runs", () => {
    const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
    const prompts = [prompt, tok.encode("The cat sat on the"), tok.encode("Lily went to the park and")];
    const opts = { maxNewTokens: 24, eosTokenId: greedy[3], stop: { strings: ["toys"], decode } };
    const batched = model.generate(prompts, opts);
    const single = prompts.map((p) => model.generate([p], opts)[0]);
    expect(batched).toEqual(single);
    expect(new Set(batched.map((r) => r.ids.length)).size).toBeGreaterThan(1);
    expect(batched[0].finishReason).toBe("eos");
  });

  test("stop strings trim the text and the tokens that made it", () => {
    const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
    const [r] = model.generate([prompt], { maxNewTokens: 20, stop: { strings: ["zzz", "Lily"], decode } });
    expect(r.finishReason).toBe("stop");
    expect(r.text).toBe(", there was a little girl named ");
    expect(r.text?.startsWith(decode(r.ids))).toBe(true);
    expect(decode(r.ids)).not.toContain("Lily");
    expect(greedy.slice(0, r.ids.length)).toEqual(r.ids);
    const [none] = model.generate([prompt], { maxNewTokens: 5, stop: { strings: ["zzz"], decode } });
    expect(none.finishReason).toBe("length");
    expect(none.text).toBe(decode(greedy.slice(0, 5)));
  });

  test("sampling is reproducible by seed; tiny top-p is greedy", () => {
    const opts = { maxNewTokens: 15, temperature: 1, topP: 0.95 };
    const a = model.generate([prompt], { ...opts, seed: 1 })[0].ids;
    const b = model.generate([prompt], { ...opts, seed: 1 })[0].ids;
    const c = model.generate([prompt], { ...opts, seed: 2 })[0].ids;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(
      model.generate([prompt], { maxNewTokens: 20, temperature: 1, topP: 1e-6, seed: 3 })[0].ids,
    ).toEqual(greedy);
  });

  test("the context bounds each row: 500-token prompt + 100 new on 512 positions gives 12, an over-long prompt none", () => {
    expect(model.config.maxPositionEmbeddings).toBe(512);
    const story = tok.encode(
      "Once upon a time, there was a little girl named Lily. She loved to play. ".repeat(40),
    );
    const long = story.slice(0, 500);
    const over = story.slice(0, 600);
    const notices: string[] = [];
    const opts = { maxNewTokens: 100, eosTokenId: null, onNotice: (l: string) => notices.push(l) };
    const [fit, full, empty, short] = model.generate([long, story.slice(0, 512), over, prompt], opts);
    expect(fit.ids.length).toBe(12);
    expect(fit.finishReason).toBe("length");
    expect(fit.contextLimited).toBe(true);
    expect(full).toEqual({ ids: [], finishReason: "length", contextLimited: true });
    expect(empty).toEqual({ ids: [], finishReason: "length", contextLimited: true });
    expect(short.ids.length).toBe(100);
    expect(short.contextLimited).toBeUndefined();
    expect(notices).toEqual([
      "generate: 3 of 4 row(s) stopped at the model's context of 512 positions (prompt + new tokens <= 512)",
    ]);
    // the same rows alone: batching with longer or empty rows changes nothing
    expect(model.generate([long], opts)[0]).toEqual(fit);
    expect(model.generate([prompt], opts)[0].ids).toEqual(short.ids);
    // no notice when maxNewTokens, not the context, ends the row
    notices.length = 0;
    expect(model.generate([long], { ...opts, maxNewTokens: 12 })[0].contextLimited).toBeUndefined();
    expect(notices).toEqual([]);
  }, 60_000);

  test("bad options and prompts are refused", () => {
    expect(() => model.generate([], {})).toThrow(RangeError);
    expect(() => model.generate([[]], {})).toThrow("prompt 0 is empty");
    expect(() => model.generate([[1, 512]], {})).toThrow("token id 512 is outside [0, 512)");
    expect(() => model.generate([prompt], { topP: 0 })).toThrow("topP");
    expect(() => model.generate([prompt], { maxNewTokens: -1 })).toThrow("maxNewTokens");
    expect(model.generate([prompt], { maxNewTokens: 0 })).toEqual([{ ids: [], finishReason: "length" }]);
  });
});

describe("a random tiny model", () => {
  const config = parseConfig(
    {
      architectures: ["LlamaForCausalLM"],
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      vocab_size: 40,
      eos_token_id: 2,
    },
    "tiny",
  );

  test("random() is deterministic by seed and initialised like transformers", () => {
    const a = CausalLM.random(config, 5);
    const b = CausalLM.random(config, 5);
    const w = a.variables.get("model.layers.0.mlp.up_proj.weight")?.dataSync() as Float32Array;
    expect(Array.from(w)).toEqual(
      Array.from(b.variables.get("model.layers.0.mlp.up_proj.weight")?.dataSync() ?? []),
    );
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(Array.from(a.variables.get("model.norm.weight")?.dataSync() ?? [])).toEqual(new Array(16).fill(1));
    expect(a.variables.has("lm_head.weight")).toBe(true);
    a.dispose();
    b.dispose();
  });

  test("no leaks: tf.memory().numTensors after 100 generate calls equals that after 1", () => {
    const model = CausalLM.random(config, 1);
    const run = (seed: number) =>
      model.generate([[1, 5, 7], [3]], {
        maxNewTokens: 4,
        temperature: seed ? 0.9 : 0,
        seed,
        eosTokenId: null,
      });
    run(0);
    const after1 = tf.memory().numTensors;
    for (let i = 1; i < 100; i++) run(i);
    expect(tf.memory().numTensors).toBe(after1);
    model.dispose();
  });

  test("fromWeights refuses missing and unexpected tensors", () => {
    const model = CausalLM.random(config, 1);
    const weights = new Map([...model.variables].map(([n, v]) => [n, v.dataSync() as Float32Array]));
    weights.delete("model.norm.weight");
    expect(() => CausalLM.fromWeights(config, weights)).toThrow("missing tensor model.norm.weight");
    weights.set("model.norm.weight", new Float32Array(16));
    weights.set("model.extra", new Float32Array(1));
    expect(() => CausalLM.fromWeights(config, weights)).toThrow("unexpected tensor model.extra");
    weights.delete("model.extra");
    weights.set("model.norm.weight", new Float32Array(15));
    expect(() => CausalLM.fromWeights(config, weights)).toThrow(
      "expected shape [16] (16 values), found 15 values",
    );
    model.dispose();
  });
});

describe("forward input checks", () => {
  test("ids outside the vocabulary, wrong dtype and mismatched masks are refused", () => {
    const config = parseConfig(
      {
        architectures: ["LlamaForCausalLM"],
        hidden_size: 8,
        intermediate_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        vocab_size: 10,
      },
      "tiny",
    );
    const model = CausalLM.random(config, 2);
    expect(() => model.logits(tf.tensor2d([[1, 10]], undefined, "int32"))).toThrow(
      "inputIds[0][1] = 10 is outside the vocabulary [0, 10)",
    );
    expect(() => model.tokenLosses(tf.tensor2d([[1, -1]], undefined, "int32"))).toThrow(
      "outside the vocabulary",
    );
    expect(() => model.logits(tf.tensor2d([[1, 2]]))).toThrow("inputIds must be int32, found float32");
    expect(() => model.logits(tf.tensor2d([[1, 2]], undefined, "int32"), tf.tensor2d([[1, 1, 1]]))).toThrow(
      "attentionMask shape [1,3] must equal inputIds shape [1,2]",
    );
    expect(() => model.tokenLosses(tf.tensor2d([[1]], undefined, "int32"))).toThrow("at least 2 tokens");
    expect(model.logits(tf.tensor2d([[1, 9]], undefined, "int32")).shape).toEqual([1, 2, 10]);
    model.dispose();
  });
});

describe("non-finite logits", () => {
  test("NaN weights stop greedy and sampled generation with a typed error instead of emitting token 0", async () => {
    const model = await CausalLM.load(STORIES);
    const norm = model.variables.get("model.norm.weight") as tf.Variable;
    norm.assign(tf.fill(norm.shape, Number.NaN));
    for (const temperature of [0, 0.8]) {
      let error: unknown;
      try {
        model.generate([[1, 403], [1]], { maxNewTokens: 5, temperature });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NonFiniteLogitsError);
      expect((error as NonFiniteLogitsError).message).toBe(
        "the model's logits are not finite (NaN or Inf) for prompt 0 at new token 1: check its weights",
      );
    }
    // One Inf logit is enough (the greedy check sums each row of logits where they are computed).
    const head = model.variables.get("lm_head.weight") ?? model.variables.get("model.embed_tokens.weight");
    norm.assign(tf.ones(norm.shape));
    const h = head as tf.Variable;
    const values = h.dataSync().slice();
    values.fill(Number.POSITIVE_INFINITY, 0, h.shape[1] as number);
    h.assign(tf.tensor(values, h.shape));
    expect(() => model.generate([[1, 403]], { maxNewTokens: 3 })).toThrow(NonFiniteLogitsError);
    model.dispose();
  });
});
