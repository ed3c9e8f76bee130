import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomic } from "@rho1/io";
import { float32ToBf16, type TensorToWrite, writeCheckpoint } from "@rho1/safetensors";
import type { CausalLMCore } from "./model.ts";

export interface SaveOptions {
  dtype?: "F32" | "BF16";
  /** Copy tokenizer.json, tokenizer_config.json, special_tokens_map.json, tokenizer.model from here. */
  tokenizerDir?: string;
  /** Shard size limit in bytes (default: @rho1/safetensors' writeCheckpoint default, like save_pretrained). */
  maxShardBytes?: number;
}

const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "tokenizer.model",
];

/**
 * Saves like `save_pretrained`: config.json in the dialect it was loaded in (dtype / torch_dtype updated),
 * model.safetensors (or shards + index), generation_config.json from the source folder, tokenizer files.
 */
export async function saveModel(
  model: CausalLMCore,
  dir: string,
  opts: SaveOptions & { sourceDir?: string | null },
): Promise<void> {
  const dtype = opts.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "BF16")
    throw new RangeError(`save dtype must be F32 or BF16, found ${dtype}`);
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, variable] of model.variables) {
    const data = variable.dataSync() as Float32Array;
    tensors.set(name, {
      dtype,
      shape: variable.shape,
      data: dtype === "BF16" ? float32ToBf16(data) : data,
    });
  }
  const shardOpts = opts.maxShardBytes ? { maxShardBytes: opts.maxShardBytes } : {};
  const written = new Set((await writeCheckpoint(dir, tensors, shardOpts)).map((p) => basename(p)));
  // A previous save in another layout (sharded vs single) would leave weights from_pretrained might pick up.
  for (const file of readdirSync(dir)) {
    if (/^model.*\.safetensors(\.index\.json)?$/.test(file) && !written.has(file)) rmSync(join(dir, file));
  }

  const config: Record<string, unknown> = { ...model.config.raw };
  const torchName = dtype === "BF16" ? "bfloat16" : "float32";
  const v5 = "dtype" in config || "rope_parameters" in config;
  if (v5) config.dtype = torchName;
  if (!v5 || "torch_dtype" in config) config.torch_dtype = torchName;
  config.tie_word_embeddings = model.config.tieWordEmbeddings;
  if (!Array.isArray(config.architectures)) config.architectures = [model.config.architecture];
  writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);

  const copies: [string, string][] = [];
  if (opts.sourceDir) copies.push([opts.sourceDir, "generation_config.json"]);
  if (opts.tokenizerDir) for (const f of TOKENIZER_FILES) copies.push([opts.tokenizerDir, f]);
  for (const [from, file] of copies) {
    const src = join(from, file);
    if (existsSync(src) && join(dir, file) !== src) writeFileAtomic(join(dir, file), readFileSync(src));
  }
  if (
    opts.tokenizerDir &&
    !existsSync(join(dir, "tokenizer.json")) &&
    !existsSync(join(dir, "tokenizer.model"))
  ) {
    throw new Error(`save: ${opts.tokenizerDir} has no tokenizer.json or tokenizer.model to copy`);
  }
}
