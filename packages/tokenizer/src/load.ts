import { createHash } from "node:crypto";
import { join } from "node:path";
import { TokenizerError } from "./errors.ts";
import { readTokenizerFiles } from "./files.ts";
import { buildLibrary } from "./library.ts";
import { booleanFlag, resolveSpecialId, templateAffixes } from "./special.ts";
import { HfFolderTokenizer } from "./tokenizer.ts";
import type { Tokenizer } from "./types.ts";

/**
 * Loads a Hugging Face tokenizer folder: tokenizer.json (required), tokenizer_config.json and
 * special_tokens_map.json (optional). Throws TokenizerError naming the file for missing or malformed files and for
 * tokenizers @huggingface/tokenizers cannot run exactly.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const files = readTokenizerFiles(dir);
  const jsonFile = join(dir, "tokenizer.json");
  const names = { config: join(dir, "tokenizer_config.json"), map: join(dir, "special_tokens_map.json") };
  const lib = buildLibrary(files.json, files.config, jsonFile);
  const template = templateAffixes(lib);
  const bosId = resolveSpecialId(lib, "bos_token", files.config, files.specialTokensMap, names);
  const eosId = resolveSpecialId(lib, "eos_token", files.config, files.specialTokensMap, names);
  const padId = resolveSpecialId(lib, "pad_token", files.config, files.specialTokensMap, names);
  const addBosFlag = booleanFlag(files.config, "add_bos_token", names.config);
  const addEosFlag = booleanFlag(files.config, "add_eos_token", names.config);
  // transformers' Llama/Gemma tokenizers rebuild the post-processor from these flags; honour them the same way.
  let affixes = template;
  if (addBosFlag !== undefined || addEosFlag !== undefined) {
    const addBos = addBosFlag ?? (template !== null && bosId !== null && template.prefix.includes(bosId));
    const addEos = addEosFlag ?? (template !== null && eosId !== null && template.suffix.includes(eosId));
    if (addBos && bosId === null) {
      throw new TokenizerError(`add_bos_token is true but no bos_token is defined`, names.config);
    }
    if (addEos && eosId === null) {
      throw new TokenizerError(`add_eos_token is true but no eos_token is defined`, names.config);
    }
    affixes = {
      prefix: addBos && bosId !== null ? [bosId] : [],
      suffix: addEos && eosId !== null ? [eosId] : [],
    };
  }
  const hash = createHash("sha256").update(files.bytes).digest("hex");
  return new HfFolderTokenizer({ dir, lib, affixes, bosId, eosId, padId, hash });
}
