import { collectGarbage } from "@rho1/io";
import { openCheckpoint, ShardedCheckpoint } from "@rho1/safetensors";
import { ConfigError, type LlamaConfig, readConfig } from "./config.ts";
import { type GenerateOptions, type GenerateResult, generate, generateAsync } from "./generate.ts";
import { CausalLMCore, parameterShapes } from "./model.ts";
import { mulberry32 } from "./sampling.ts";
import { type SaveOptions, saveModel } from "./save.ts";
import { tf } from "./tf.ts";

/** A causal Llama/Mistral language model: Hugging Face weights in tf.Variables, forward, generate, save. */
export class CausalLM extends CausalLMCore {
  /** The folder it was loaded from (save() copies its generation_config.json), if any. */
  sourceDir: string | null = null;

  /**
   * Loads a Hugging Face folder: config.json plus model.safetensors or a sharded index (F32/F16/BF16, widened to
   * float32). Reads tensor by tensor, so peak memory stays near the float32 size of the weights.
   */
  static async load(dir: string): Promise<CausalLM> {
    const config = readConfig(dir);
    const source = openCheckpoint(dir);
    const model = new CausalLM(config);
    try {
      const shapes = parameterShapes(config);
      for (const [name, shape] of shapes) {
        if (!source.has(name)) {
          throw new ConfigError(
            `${dir}: checkpoint has no tensor ${name} (expected shape [${shape}])`,
            dir,
            name,
          );
        }
        const found = source.info(name).shape;
        if (found.join(",") !== shape.join(",")) {
          throw new ConfigError(
            `${dir}: tensor ${name} expected shape [${shape}] from config.json, found [${found}]`,
            dir,
            name,
          );
        }
      }
      // Shard by shard, dropping each shard's mapping once read, so that mapped file pages do not pile up on top
      // of the float32 copies.
      const groups =
        source instanceof ShardedCheckpoint
          ? source.shards.map((shard) => ({ shard, names: shard.names }))
          : null;
      for (const { shard, names } of groups ?? [{ shard: null, names: source.names }]) {
        for (const name of names) {
          const shape = shapes.get(name);
          if (!shape || model.variables.has(name)) continue;
          model.addVariable(name, tf.tensor((shard ?? source).readFloat32(name), shape, "float32"));
        }
        if (shard) {
          shard.close();
          collectGarbage();
        }
      }
      for (const name of shapes.keys()) {
        if (!model.variables.has(name))
          throw new ConfigError(`${dir}: tensor ${name} was not read`, dir, name);
      }
    } catch (error) {
      model.dispose();
      throw error;
    } finally {
      source.close();
    }
    model.sourceDir = dir;
    return model;
  }

  /** Builds a model from float32 arrays keyed by Hugging Face tensor name (extra names are refused). */
  static fromWeights(config: LlamaConfig, weights: Map<string, Float32Array>): CausalLM {
    const model = new CausalLM(config);
    try {
      const shapes = parameterShapes(config);
      for (const name of weights.keys()) {
        if (!shapes.has(name) && !(name === "lm_head.weight" && config.tieWordEmbeddings)) {
          throw new ConfigError(`fromWeights: unexpected tensor ${name}`, "<weights>", name);
        }
      }
      for (const [name, shape] of shapes) {
        const data = weights.get(name);
        if (!data)
          throw new ConfigError(`fromWeights: missing tensor ${name} (shape [${shape}])`, "<weights>", name);
        const n = shape.reduce((a, b) => a * b, 1);
        if (data.length !== n) {
          throw new ConfigError(
            `fromWeights: tensor ${name} expected shape [${shape}] (${n} values), found ${data.length} values`,
            "<weights>",
            name,
          );
        }
        model.addVariable(name, tf.tensor(data, shape, "float32"));
      }
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /** Random init like transformers: linear and embedding weights ~ N(0, 0.02²), norm weights 1. Deterministic. */
  static random(config: LlamaConfig, seed: number): CausalLM {
    const random = mulberry32(seed);
    const std = typeof config.raw.initializer_range === "number" ? config.raw.initializer_range : 0.02;
    const weights = new Map<string, Float32Array>();
    for (const [name, shape] of parameterShapes(config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (name.endsWith("norm.weight")) data.fill(1);
      else {
        for (let i = 0; i < n; i += 2) {
          // Box–Muller: two normals per pair of uniforms.
          const r = Math.sqrt(-2 * Math.log(1 - random())) * std;
          const a = 2 * Math.PI * random();
          data[i] = r * Math.cos(a);
          if (i + 1 < n) data[i + 1] = r * Math.sin(a);
        }
      }
      weights.set(name, data);
    }
    return CausalLM.fromWeights(config, weights);
  }

  /** Synchronous reads: host backends only (cpu, wasm, tfjs-node). */
  generate(prompts: number[][], opts?: GenerateOptions): GenerateResult[] {
    return generate(this, prompts, opts);
  }

  /** The same decoding with `await data()` reads: every backend, WebGPU included. */
  generateAsync(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult[]> {
    return generateAsync(this, prompts, opts);
  }

  /** Writes a Hugging Face folder (config.json, safetensors F32 or BF16, tokenizer files when tokenizerDir). */
  save(dir: string, opts: SaveOptions = {}): Promise<void> {
    return saveModel(this, dir, { ...opts, sourceDir: this.sourceDir });
  }
}
