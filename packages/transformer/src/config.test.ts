import { describe, expect, test } from "bun:test";
import { ConfigError, defaultSeqLen, parseConfig, readConfig } from "./config.ts";

const v4 = {
  architectures: ["LlamaForCausalLM"],
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 5,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  vocab_size: 512,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: null,
  hidden_act: "silu",
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: "float32",
};

const v5 = {
  architectures: ["MistralForCausalLM"],
  hidden_size: 64,
  intermediate_size: 160,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  head_dim: 16,
  vocab_size: 320,
  rms_norm_eps: 1e-5,
  rope_parameters: { rope_theta: 1000000.0, rope_type: "default" },
  sliding_window: 4096,
  dtype: "float32",
  eos_token_id: [2, 7],
};

function expectConfigError(json: unknown, field: string, found: string) {
  try {
    parseConfig(json, "/m/config.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.field).toBe(field);
    expect(e.message).toContain("/m/config.json");
    expect(e.message).toContain(field);
    expect(e.message).toContain(found);
    return;
  }
  throw new Error(`expected a ConfigError for ${field}`);
}

describe("parseConfig", () => {
  test("transformers 4.x dialect (top-level rope_theta, torch_dtype)", () => {
    const c = parseConfig(v4, "config.json");
    expect(c.architecture).toBe("LlamaForCausalLM");
    expect(c.headDim).toBe(8); // hidden / heads when head_dim is absent
    expect(c.numKvHeads).toBe(4);
    expect(c.ropeTheta).toBe(500000);
    expect(c.ropeScaling).toBeNull();
    expect(c.tieWordEmbeddings).toBe(true);
    expect(c.slidingWindow).toBeNull();
    expect(c.eosTokenId).toBe(2);
    expect(c.raw).toBe(v4 as unknown as Record<string, unknown>);
  });

  test("transformers 5.x dialect (rope_parameters, dtype), Mistral sliding window, eos list", () => {
    const c = parseConfig(v5, "config.json");
    expect(c.architecture).toBe("MistralForCausalLM");
    expect(c.ropeTheta).toBe(1000000);
    expect(c.headDim).toBe(16);
    expect(c.slidingWindow).toBe(4096);
    expect(c.eosTokenId).toEqual([2, 7]);
    expect(c.tieWordEmbeddings).toBe(false);
    expect(c.bosTokenId).toBeNull();
    expect(c.rmsNormEps).toBe(1e-5);
  });

  test("defaults: kv heads = heads, theta 10000, eps 1e-6, model_type without architectures", () => {
    const { architectures, num_key_value_heads, rope_theta, rms_norm_eps, ...rest } = v4;
    const c = parseConfig({ ...rest, model_type: "llama" }, "config.json");
    expect(c.numKvHeads).toBe(8);
    expect(c.ropeTheta).toBe(10000);
    expect(c.rmsNormEps).toBe(1e-6);
  });

  test("rope scaling: linear and llama3 in both dialects", () => {
    const linear = parseConfig({ ...v4, rope_scaling: { type: "linear", factor: 2 } }, "c");
    expect(linear.ropeScaling).toEqual({ type: "linear", factor: 2 });
    const llama3 = parseConfig(
      {
        ...v5,
        rope_parameters: {
          rope_theta: 500000,
          rope_type: "llama3",
          factor: 8,
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 8192,
        },
      },
      "c",
    );
    expect(llama3.ropeTheta).toBe(500000);
    expect(llama3.ropeScaling).toEqual({
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
  });

  test("refuses what it cannot run exactly, naming field and value", () => {
    expectConfigError({ ...v4, architectures: ["GPT2LMHeadModel"] }, "architectures", "GPT2LMHeadModel");
    expectConfigError({ ...v4, attention_bias: true }, "attention_bias", "true");
    expectConfigError({ ...v4, mlp_bias: true }, "mlp_bias", "true");
    expectConfigError(
      { ...v4, rope_scaling: { type: "dynamic", factor: 2 } },
      "rope_scaling.rope_type",
      "dynamic",
    );
    expectConfigError(
      { ...v5, rope_parameters: { rope_theta: 1e4, rope_type: "yarn", factor: 4 } },
      "rope_parameters.rope_type",
      "yarn",
    );
    expectConfigError({ ...v4, rope_scaling: { type: "linear" } }, "rope_scaling.factor", "nothing");
    expectConfigError({ ...v4, num_key_value_heads: 3 }, "num_key_value_heads", "3");
    expectConfigError({ ...v4, hidden_size: -1 }, "hidden_size", "-1");
    expectConfigError({ ...v4, hidden_size: undefined }, "hidden_size", "nothing");
    expectConfigError({ ...v4, hidden_act: "gelu" }, "hidden_act", "gelu");
    expectConfigError({ ...v4, eos_token_id: "x" }, "eos_token_id", '"x"');
    expect(() => parseConfig([1, 2], "c")).toThrow(ConfigError);
  });
});

describe("defaultSeqLen", () => {
  test("the model's max_position_embeddings, capped at 2048; readConfig names a missing file", () => {
    expect(defaultSeqLen(parseConfig(v4, "config.json"))).toBe(512);
    expect(defaultSeqLen(parseConfig({ ...v4, max_position_embeddings: 4096 }, "config.json"))).toBe(2048);
    expect(defaultSeqLen(parseConfig(v5, "config.json"))).toBe(2048); // Mistral without the field: 32768
    expect(() => readConfig("/nonexistent-model")).toThrow(
      "/nonexistent-model/config.json: cannot read config",
    );
  });
});
