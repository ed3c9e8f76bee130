/**
 * A Llama / Mistral decoder (nanoGPT-sized and readable), numerically the same as transformers' LlamaForCausalLM.
 * Heavy operations go only through ./ops (see ops/contract.ts), so a backend can swap in faster kernels.
 */
import { collectGarbage } from "@rho1/io";
import type { LlamaConfig } from "./config.ts";
import { attention } from "./ops/attention.ts";
import { crossEntropy } from "./ops/crossEntropy.ts";
import { embedding } from "./ops/embedding.ts";
import { linear } from "./ops/matmul.ts";
import { rmsNorm } from "./ops/rmsNorm.ts";
import { rope } from "./ops/rope.ts";
import { swiglu } from "./ops/swiglu.ts";
import { hostValues, maxBindingBytes, tf } from "./tf.ts";

/** Per-layer key/value cache: [B, Tk, nKv, D] after RoPE. */
export interface KvCache {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
  length: number;
}

/** Every parameter name and shape of the Hugging Face checkpoint for this config (lm_head only when untied). */
export function parameterShapes(config: LlamaConfig): Map<string, number[]> {
  const { hiddenSize: h, numHeads, numKvHeads, headDim: d, intermediateSize: f, vocabSize: v } = config;
  const shapes = new Map<string, number[]>();
  shapes.set("model.embed_tokens.weight", [v, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(`${p}input_layernorm.weight`, [h]);
    shapes.set(`${p}self_attn.q_proj.weight`, [numHeads * d, h]);
    shapes.set(`${p}self_attn.k_proj.weight`, [numKvHeads * d, h]);
    shapes.set(`${p}self_attn.v_proj.weight`, [numKvHeads * d, h]);
    shapes.set(`${p}self_attn.o_proj.weight`, [h, numHeads * d]);
    shapes.set(`${p}post_attention_layernorm.weight`, [h]);
    shapes.set(`${p}mlp.gate_proj.weight`, [f, h]);
    shapes.set(`${p}mlp.up_proj.weight`, [f, h]);
    shapes.set(`${p}mlp.down_proj.weight`, [h, f]);
  }
  shapes.set("model.norm.weight", [h]);
  if (!config.tieWordEmbeddings) shapes.set("lm_head.weight", [v, h]);
  return shapes;
}

let modelCounter = 0;

export class CausalLMCore {
  readonly variables = new Map<string, tf.Variable>();
  /** tfjs variable names are global: prefix them so two models can live side by side. */
  protected readonly prefix = `rho1_${++modelCounter}/`;

  constructor(readonly config: LlamaConfig) {}

  /**
   * Adds one parameter (takes ownership of `value`'s data; no copy). Callers pass a name and shape taken from
   * parameterShapes(config) after checking their input against it (with the file or tensor named).
   */
  protected addVariable(name: string, value: tf.Tensor): void {
    this.variables.set(name, tf.variable(value, true, this.prefix + name));
    value.dispose();
  }

  protected w(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`model has no parameter ${name} (disposed?)`);
    return v;
  }

  /**
   * Final-norm hidden states [B, T, H]. positions int32 [B, T]; keyMask float32 [B, Tk] covering cached + new keys.
   * With a cache, new keys/values are appended to it (the caller owns and disposes the cache tensors).
   */
  hidden(ids: tf.Tensor2D, positions: tf.Tensor2D, keyMask: tf.Tensor2D, cache?: KvCache): tf.Tensor3D {
    const c = this.config;
    const offset = cache?.length ?? 0;
    let h = embedding(this.w("model.embed_tokens.weight") as tf.Tensor2D, ids) as tf.Tensor3D;
    const [b, t] = ids.shape;
    const layerBytes = 4 * b * t * (4 * c.hiddenSize + 3 * c.intermediateSize);
    for (let i = 0; i < c.numLayers; i++) {
      // One tidy per layer frees its intermediates at once when no gradient is recorded (a caller's outer tidy
      // would otherwise hold every layer's activations); tensors the gradient needs are kept by the tape.
      const input = h;
      h = tf.tidy(() => this.layer(i, input, positions, keyMask, offset, cache));
      collectGarbageAfter(layerBytes);
    }
    if (cache) cache.length = offset + ids.shape[1];
    return rmsNorm(h, this.w("model.norm.weight") as tf.Tensor1D, c.rmsNormEps);
  }

  /** One decoder layer: h + attention(norm(h)), then + mlp(norm(·)). */
  private layer(
    i: number,
    h: tf.Tensor3D,
    positions: tf.Tensor2D,
    keyMask: tf.Tensor2D,
    offset: number,
    cache?: KvCache,
  ): tf.Tensor3D {
    const c = this.config;
    const [b, t] = h.shape;
    const p = `model.layers.${i}.`;
    const w = (name: string) => this.w(p + name) as tf.Tensor2D;
    const heads = (x: tf.Tensor, n: number) => tf.reshape(x, [b, t, n, c.headDim]) as tf.Tensor4D;

    const x = rmsNorm(h, this.w(`${p}input_layernorm.weight`) as tf.Tensor1D, c.rmsNormEps);
    const q = rope(
      heads(linear(x, w("self_attn.q_proj.weight")), c.numHeads),
      positions,
      c.ropeTheta,
      c.ropeScaling,
    );
    let k = rope(
      heads(linear(x, w("self_attn.k_proj.weight")), c.numKvHeads),
      positions,
      c.ropeTheta,
      c.ropeScaling,
    );
    let v = heads(linear(x, w("self_attn.v_proj.weight")), c.numKvHeads);
    if (cache) {
      const [oldK, oldV] = [cache.k[i], cache.v[i]];
      if (offset > 0) {
        k = tf.concat([oldK, k], 1);
        v = tf.concat([oldV, v], 1);
      }
      cache.k[i] = tf.keep(k);
      cache.v[i] = tf.keep(v);
      if (offset > 0) tf.dispose([oldK, oldV]);
    }
    const a = attention(q, k, v, keyMask, {
      scale: 1 / Math.sqrt(c.headDim),
      queryOffset: offset,
      slidingWindow: c.slidingWindow,
    });
    const merged = tf.reshape(a, [b, t, c.numHeads * c.headDim]);
    const h1 = tf.add(h, linear(merged, w("self_attn.o_proj.weight")));
    const y = rmsNorm(h1, this.w(`${p}post_attention_layernorm.weight`) as tf.Tensor1D, c.rmsNormEps);
    const mlp = swiglu(linear(y, w("mlp.gate_proj.weight")), linear(y, w("mlp.up_proj.weight")));
    return tf.add(h1, linear(mlp, w("mlp.down_proj.weight"))) as tf.Tensor3D;
  }

  /** hidden [..., H] → logits [..., V] through lm_head (or the embedding table when tied). */
  head(hidden: tf.Tensor): tf.Tensor {
    const name = this.config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    return linear(hidden, this.w(name) as tf.Tensor2D);
  }

  /** logits [B, T, V]. Positions count from each row's first unmasked token (left padding works too). */
  logits(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const { positions, keyMask } = prepareInputs(inputIds, attentionMask, this.config.vocabSize);
      return this.head(this.hidden(inputIds, positions, keyMask)) as tf.Tensor3D;
    });
  }

  /**
   * ce[b, t] = CE(logits[b, t], ids[b, t+1]), zeroed where invalid; valid[b, t] = mask[b, t]·mask[b, t+1].
   * Differentiable. The CE runs on all T positions (the last one gets label −1, i.e. 0) and only the small [B, T]
   * result is sliced: slicing the [B, T, H] activations costs far more than one extra head row per sequence on the
   * cpu backend, whose strided Slice works element by element.
   */
  tokenLosses(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): { ce: tf.Tensor2D; valid: tf.Tensor2D } {
    const [b, t] = inputIds.shape;
    if (t < 2) throw new RangeError(`tokenLosses needs at least 2 tokens per row, found ${t}`);
    const { ce, valid } = tf.tidy(() => {
      const { positions, keyMask } = prepareInputs(inputIds, attentionMask, this.config.vocabSize);
      // Labels built on the device (no read of the ids): label[r, i] = ids[r, i+1] where both tokens are unmasked,
      // else −1 (a zero loss); the last position of each row has no next token.
      const pair = tf.mul(tf.slice(keyMask, [0, 0], [b, t - 1]), tf.slice(keyMask, [0, 1], [b, t - 1]));
      const next = tf.slice(inputIds, [0, 1], [b, t - 1]);
      const paired = tf.notEqual(pair, 0);
      const shifted = tf.where(paired, next, tf.fill([b, t - 1], -1, "int32"));
      const labels = tf.concat([shifted, tf.fill([b, 1], -1, "int32")], 1);
      const hidden = tf.reshape(this.hidden(inputIds, positions, keyMask), [b * t, this.config.hiddenSize]);
      const flatLabels = tf.reshape(labels, [-1]) as tf.Tensor1D;
      // The [rows, V] logits go through the head and the CE in row chunks when one block would exceed the device's
      // largest binding (WebGPU: 128 MiB by default on software adapters, a few GiB on GPUs); one chunk elsewhere.
      const rows = Math.max(1, Math.floor(maxBindingBytes() / (4 * this.config.vocabSize)));
      const chunkCe = (start: number, n: number) =>
        crossEntropy(
          this.head(tf.slice(hidden, [start, 0], [n, -1])) as tf.Tensor2D,
          tf.slice(flatLabels, [start], [n]),
        );
      const all =
        rows >= b * t
          ? crossEntropy(this.head(hidden) as tf.Tensor2D, flatLabels)
          : tf.concat(
              Array.from({ length: Math.ceil((b * t) / rows) }, (_, i) =>
                chunkCe(i * rows, Math.min(rows, b * t - i * rows)),
              ),
            );
      return {
        ce: tf.slice(tf.reshape(all, [b, t]), [0, 0], [b, t - 1]) as tf.Tensor2D,
        valid: tf.cast(paired, "float32") as tf.Tensor2D,
      };
    });
    collectGarbageAfter(4 * b * t * this.config.vocabSize);
    return { ce, valid };
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

/**
 * Disposed tfjs tensors free their Float32Arrays only when the JavaScript GC runs, and it runs late for large
 * ArrayBuffers: scoring 2 x 512 tokens on a 1.1B model left ~3 GB of dead activations resident. After a step that
 * released at least this many bytes, a full collection is cheap by comparison (milliseconds against the seconds of
 * matmuls that produced them).
 */
const GC_THRESHOLD_BYTES = 64 * 2 ** 20;

function collectGarbageAfter(releasedBytes: number): void {
  if (releasedBytes >= GC_THRESHOLD_BYTES) collectGarbage();
}

/**
 * keyMask float32 [B, T] (ones when no mask) and int32 positions [B, T] = t − (leading masked tokens of the row),
 * clamped at 0: identical to arange for right padding (transformers' forward) and to cumsum(mask) − 1 for left
 * padding (transformers' generate).
 */
export function prepareInputs(
  inputIds: tf.Tensor2D,
  attentionMask?: tf.Tensor2D,
  vocabSize?: number,
): { positions: tf.Tensor2D; keyMask: tf.Tensor2D } {
  const [b, t] = inputIds.shape;
  if (inputIds.dtype !== "int32") throw new TypeError(`inputIds must be int32, found ${inputIds.dtype}`);
  // The vocabulary check needs the ids on the host: it runs whenever they are there (always on host backends; on
  // webgpu while the tensor still holds the array it was made from), never forcing a device read.
  const ids = vocabSize === undefined ? null : hostValues(inputIds);
  if (ids && vocabSize !== undefined) {
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new RangeError(
          `inputIds[${Math.floor(i / t)}][${i % t}] = ${ids[i]} is outside the vocabulary [0, ${vocabSize})`,
        );
      }
    }
  }
  if (attentionMask && (attentionMask.shape[0] !== b || attentionMask.shape[1] !== t)) {
    throw new RangeError(
      `attentionMask shape [${attentionMask.shape}] must equal inputIds shape [${b},${t}]`,
    );
  }
  return tf.tidy(() => {
    const keyMask = attentionMask
      ? (tf.cast(attentionMask, "float32") as tf.Tensor2D)
      : (tf.ones([b, t], "float32") as tf.Tensor2D);
    // lead[r] = index of the row's first unmasked token (t when none), computed on the device.
    const index = tf.range(0, t, 1, "int32");
    const lead = tf.min(
      tf.where(tf.notEqual(keyMask, 0), tf.broadcastTo(index, [b, t]), tf.fill([b, t], t, "int32")),
      1,
      true,
    );
    const positions = tf.maximum(tf.sub(index, lead), tf.scalar(0, "int32")) as tf.Tensor2D;
    return { positions, keyMask };
  });
}
