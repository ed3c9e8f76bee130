/** Parsing Hugging Face `config.json` for Llama / Mistral decoders, in both transformers 4.x and 5.x dialects. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rho1Error } from "@rho1/io";

export interface RopeScaling {
  /** "linear" or "llama3" (the two implemented); anything else is refused by parseConfig. */
  type: string;
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

export interface LlamaConfig {
  architecture: "LlamaForCausalLM" | "MistralForCausalLM";
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  /** The checkpoint's torch dtype name ("float32", "bfloat16", ...): 5.x `dtype`, 4.x `torch_dtype`; null if absent. */
  dtype: string | null;
  raw: Record<string, unknown>;
}

/** A config.json this package cannot load exactly: names the file, the field and the value found. */
export class ConfigError extends Rho1Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly file: string,
    readonly field?: string,
  ) {
    super("bad_config", message, field === undefined ? { file } : { file, field });
  }
}

/** Reads and parses `<dir>/config.json`; an unreadable file is a ConfigError naming it. */
export function readConfig(dir: string): LlamaConfig {
  const file = join(dir, "config.json");
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`${file}: cannot read config: ${(error as Error).message}`, file);
  }
  return parseConfig(json, file);
}

/** The longest sequence length any option defaults to (the paper's 2,048; longer contexts are asked for). */
export const MAX_DEFAULT_SEQ_LEN = 2048;

/** The default sequence length for a model: its max_position_embeddings, capped at MAX_DEFAULT_SEQ_LEN. */
export function defaultSeqLen(config: LlamaConfig): number {
  return Math.min(config.maxPositionEmbeddings, MAX_DEFAULT_SEQ_LEN);
}

const ARCHITECTURES = { llama: "LlamaForCausalLM", mistral: "MistralForCausalLM" } as const;

export function parseConfig(json: unknown, file: string): LlamaConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError(`${file}: expected a JSON object, found ${describe(json)}`, file);
  }
  const raw = json as Record<string, unknown>;
  const fail = (field: string, expected: string, found: unknown): never => {
    throw new ConfigError(
      `${file}: field "${field}" expected ${expected}, found ${describe(found)}`,
      file,
      field,
    );
  };

  const architecture = parseArchitecture(raw, fail);

  const int = (field: string, fallback?: number): number => {
    const v = raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return fail(field, "a positive integer", v);
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) return fail(field, "a positive integer", v);
    return v;
  };
  const num = (field: string, fallback: number, obj: Record<string, unknown> = raw, prefix = ""): number => {
    const v = obj[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
      return fail(prefix + field, "a positive number", v);
    return v;
  };

  const hiddenSize = int("hidden_size");
  const numLayers = int("num_hidden_layers");
  const numHeads = int("num_attention_heads");
  const numKvHeads = int("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    fail("num_key_value_heads", `a divisor of num_attention_heads (${numHeads})`, numKvHeads);
  }
  if (raw.head_dim === undefined || raw.head_dim === null) {
    if (hiddenSize % numHeads !== 0)
      fail("hidden_size", `a multiple of num_attention_heads (${numHeads})`, hiddenSize);
  }
  const headDim = int("head_dim", hiddenSize / numHeads);
  if (headDim % 2 !== 0) fail("head_dim", "an even number (rotary embedding pairs halves)", headDim);

  const act = raw.hidden_act ?? raw.hidden_activation ?? "silu";
  if (act !== "silu" && act !== "swish") fail("hidden_act", '"silu"', act);
  for (const field of ["attention_bias", "mlp_bias"]) {
    if (raw[field] !== undefined && raw[field] !== null && raw[field] !== false) {
      fail(field, "false (biases are not implemented)", raw[field]);
    }
  }

  const { ropeTheta, ropeScaling } = parseRope(raw, fail, num);

  let slidingWindow: number | null = null;
  if (
    architecture === "MistralForCausalLM" &&
    raw.sliding_window !== undefined &&
    raw.sliding_window !== null
  ) {
    slidingWindow = int("sliding_window");
  }

  const tie = raw.tie_word_embeddings ?? false;
  if (typeof tie !== "boolean") fail("tie_word_embeddings", "a boolean", tie);

  return {
    architecture,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: int("intermediate_size"),
    vocabSize: int("vocab_size"),
    rmsNormEps: num("rms_norm_eps", 1e-6),
    ropeTheta,
    ropeScaling,
    tieWordEmbeddings: tie as boolean,
    maxPositionEmbeddings: int(
      "max_position_embeddings",
      architecture === "MistralForCausalLM" ? 32768 : 2048,
    ),
    slidingWindow,
    bosTokenId: tokenId(raw, "bos_token_id", fail) as number | null,
    eosTokenId: tokenId(raw, "eos_token_id", fail, true),
    dtype:
      typeof raw.dtype === "string"
        ? raw.dtype
        : typeof raw.torch_dtype === "string"
          ? raw.torch_dtype
          : null,
    raw,
  };
}

type Fail = (field: string, expected: string, found: unknown) => never;

function parseArchitecture(raw: Record<string, unknown>, fail: Fail): LlamaConfig["architecture"] {
  const archs = raw.architectures;
  if (Array.isArray(archs) && archs.length > 0) {
    const known = Object.values(ARCHITECTURES) as string[];
    const found = archs.find((a) => known.includes(a as string));
    if (found === undefined) fail("architectures", `one of ${known.join(", ")}`, archs);
    return found as LlamaConfig["architecture"];
  }
  const type = raw.model_type;
  if (type === "llama" || type === "mistral") return ARCHITECTURES[type];
  return fail(
    "architectures",
    "LlamaForCausalLM or MistralForCausalLM (or model_type llama/mistral)",
    archs ?? type,
  );
}

/**
 * transformers 5.x writes `rope_parameters: {rope_theta, rope_type, ...}`; 4.x writes top-level `rope_theta` and
 * `rope_scaling: {type|rope_type, factor, ...} | null`. Missing the 5.x field silently gives theta 10000.
 */
function parseRope(
  raw: Record<string, unknown>,
  fail: Fail,
  num: (field: string, fallback: number, obj?: Record<string, unknown>, prefix?: string) => number,
): { ropeTheta: number; ropeScaling: RopeScaling | null } {
  let params: Record<string, unknown> | null = null;
  let field = "rope_scaling";
  if (raw.rope_parameters !== undefined && raw.rope_parameters !== null) {
    if (typeof raw.rope_parameters !== "object" || Array.isArray(raw.rope_parameters)) {
      fail("rope_parameters", "an object", raw.rope_parameters);
    }
    params = raw.rope_parameters as Record<string, unknown>;
    field = "rope_parameters";
  } else if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
    if (typeof raw.rope_scaling !== "object" || Array.isArray(raw.rope_scaling)) {
      fail("rope_scaling", "an object or null", raw.rope_scaling);
    }
    params = raw.rope_scaling as Record<string, unknown>;
  }
  const ropeTheta =
    params && field === "rope_parameters" && params.rope_theta !== undefined
      ? num("rope_theta", 10000, params, "rope_parameters.")
      : num("rope_theta", 10000);
  if (!params) return { ropeTheta, ropeScaling: null };
  const type = params.rope_type ?? params.type ?? "default";
  const prefix = `${field}.`;
  if (type === "default") return { ropeTheta, ropeScaling: null };
  const need = (name: string) => {
    const v = num(name, Number.NaN, params, prefix);
    if (Number.isNaN(v)) fail(prefix + name, "a positive number", params[name]);
    return v;
  };
  if (type === "linear") return { ropeTheta, ropeScaling: { type, factor: need("factor") } };
  if (type === "llama3") {
    return {
      ropeTheta,
      ropeScaling: {
        type,
        factor: need("factor"),
        lowFreqFactor: need("low_freq_factor"),
        highFreqFactor: need("high_freq_factor"),
        originalMaxPositionEmbeddings: need("original_max_position_embeddings"),
      },
    };
  }
  return fail(`${prefix}rope_type`, '"default", "linear" or "llama3" (others are not implemented)', type);
}

function tokenId(
  raw: Record<string, unknown>,
  field: string,
  fail: Fail,
  allowList = false,
): number | number[] | null {
  const v = raw[field];
  if (v === undefined || v === null) return null;
  const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
  if (ok(v)) return v as number;
  if (allowList && Array.isArray(v) && v.every(ok)) return v as number[];
  return fail(field, allowList ? "a token id or a list of ids" : "a token id", v);
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
