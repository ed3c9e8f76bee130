import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TokenizerError } from "./errors.ts";

/** The raw contents of a Hugging Face tokenizer folder. */
export interface TokenizerFiles {
  dir: string;
  /** Parsed tokenizer.json. */
  json: Record<string, unknown>;
  /** The exact bytes of tokenizer.json (hashed into score manifests). */
  bytes: Uint8Array;
  /** Parsed tokenizer_config.json ({} when the folder has none). */
  config: Record<string, unknown>;
  /** Parsed special_tokens_map.json ({} when the folder has none). */
  specialTokensMap: Record<string, unknown>;
}

function parseObject(path: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`not valid JSON (${(error as Error).message})`, path);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TokenizerError(
      `expected a JSON object, found ${Array.isArray(value) ? "an array" : typeof value}`,
      path,
    );
  }
  return value as Record<string, unknown>;
}

function readOptional(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  return parseObject(path, readFileSync(path, "utf8"));
}

/** Reads tokenizer.json (required), tokenizer_config.json and special_tokens_map.json (optional) from `dir`. */
export function readTokenizerFiles(dir: string): TokenizerFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TokenizerError(`tokenizer folder not found: ${dir}`, dir);
  }
  const jsonPath = join(dir, "tokenizer.json");
  if (!existsSync(jsonPath)) {
    throw new TokenizerError(
      "tokenizer.json is missing (rho1 needs the fast-tokenizer file; convert a SentencePiece model with transformers first)",
      jsonPath,
    );
  }
  const bytes = readFileSync(jsonPath);
  const json = parseObject(jsonPath, new TextDecoder("utf-8", { fatal: false }).decode(bytes));
  return {
    dir,
    json,
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    config: readOptional(join(dir, "tokenizer_config.json")),
    specialTokensMap: readOptional(join(dir, "special_tokens_map.json")),
  };
}
