import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomic } from "@rho1/io";
import { float32ToBf16, float32ToF16, type TensorToWrite, writeCheckpoint } from "@rho1/safetensors";
import { loadTokenizer, portableTokenizerFiles, tokenizerJsonText } from "@rho1/tokenizer";
import type { CausalLMCore } from "./model.ts";

export interface SaveOptions {
  dtype?: "F32" | "BF16" | "F16";
  /**
   * Copy tokenizer.json and tokenizer.model from here, and write its tokenizer_config.json and
   * special_tokens_map.json in the form transformers 4.x and 5.x both load (see @rho1/tokenizer's portable.ts).
   */
  tokenizerDir?: string;
  /** Shard size limit in bytes (default: @rho1/safetensors' writeCheckpoint default, like save_pretrained). */
  maxShardBytes?: number;
}

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer.model"];
const TORCH_DTYPES = { F32: "float32", BF16: "bfloat16", F16: "float16" } as const;

/**
 * Saves like `save_pretrained`: config.json in the dialect it was loaded in (dtype and torch_dtype both set),
 * model.safetensors (or shards + index), generation_config.json (the source folder's, else bos/eos/pad from the
 * tokenizer), tokenizer files.
 */
export async function saveModel(
  model: CausalLMCore,
  dir: string,
  opts: SaveOptions & { sourceDir?: string | null },
): Promise<void> {
  const dtype = opts.dtype ?? "F32";
  if (!(dtype in TORCH_DTYPES)) throw new RangeError(`save dtype must be F32, BF16 or F16, found ${dtype}`);
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, variable] of model.variables) {
    const data = (await variable.data()) as Float32Array;
    tensors.set(name, {
      dtype,
      shape: variable.shape,
      data: dtype === "BF16" ? float32ToBf16(data) : dtype === "F16" ? float32ToF16(data) : data,
    });
  }
  const shardOpts = opts.maxShardBytes ? { maxShardBytes: opts.maxShardBytes } : {};
  const written = new Set((await writeCheckpoint(dir, tensors, shardOpts)).map((p) => basename(p)));
  // A previous save in another layout (sharded vs single) would leave weights from_pretrained might pick up.
  for (const file of readdirSync(dir)) {
    if (/^model.*\.safetensors(\.index\.json)?$/.test(file) && !written.has(file)) rmSync(join(dir, file));
  }

  const config: Record<string, unknown> = { ...model.config.raw };
  const torchName = TORCH_DTYPES[dtype];
  // Both names: transformers 4.x reads torch_dtype, 5.x reads dtype (and torch_dtype as its deprecated alias).
  config.torch_dtype = torchName;
  config.dtype = torchName;
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
  if (!opts.tokenizerDir) return;
  if (!existsSync(join(dir, "tokenizer.json")) && !existsSync(join(dir, "tokenizer.model"))) {
    throw new Error(`save: ${opts.tokenizerDir} has no tokenizer.json or tokenizer.model to copy`);
  }
  const readJson = (file: string): Record<string, unknown> =>
    existsSync(join(opts.tokenizerDir as string, file))
      ? (JSON.parse(readFileSync(join(opts.tokenizerDir as string, file), "utf8")) as Record<string, unknown>)
      : {};
  const portable = portableTokenizerFiles(
    readJson("tokenizer_config.json"),
    readJson("special_tokens_map.json"),
  );
  writeFileAtomic(join(dir, "tokenizer_config.json"), tokenizerJsonText(portable.tokenizerConfig));
  writeFileAtomic(join(dir, "special_tokens_map.json"), tokenizerJsonText(portable.specialTokensMap));
  if (!existsSync(join(dir, "generation_config.json")) && existsSync(join(dir, "tokenizer.json"))) {
    const tokenizer = await loadTokenizer(opts.tokenizerDir);
    const generation: Record<string, unknown> = { _from_model_config: true };
    if (tokenizer.bosId !== null) generation.bos_token_id = tokenizer.bosId;
    if (tokenizer.eosId !== null) generation.eos_token_id = tokenizer.eosId;
    if (tokenizer.padId !== null) generation.pad_token_id = tokenizer.padId;
    writeFileAtomic(join(dir, "generation_config.json"), `${JSON.stringify(generation, null, 2)}\n`);
  }
}
