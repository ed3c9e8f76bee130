import { TokenizerError } from "./errors.ts";
import { type LibTokenizer, tokenStringToId } from "./library.ts";

/** A special token as tokenizer_config.json / special_tokens_map.json write it: a string or {content: ...}. */
function tokenContent(value: unknown, file: string, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  throw new TokenizerError(
    `field "${field}": expected a string or {content: string}, found ${JSON.stringify(value)}`,
    file,
  );
}

/** Resolves bos/eos/pad (and unk) ids: tokenizer_config.json first, then special_tokens_map.json. */
export function resolveSpecialId(
  lib: LibTokenizer,
  name: "bos_token" | "eos_token" | "pad_token" | "unk_token",
  config: Record<string, unknown>,
  specialTokensMap: Record<string, unknown>,
  files: { config: string; map: string },
): number | null {
  let content = tokenContent(config[name], files.config, name);
  let file = files.config;
  if (content === null) {
    content = tokenContent(specialTokensMap[name], files.map, name);
    file = files.map;
  }
  if (content === null) return null;
  const id = lib.added_tokens_map.get(content)?.id ?? lib.model.tokens_to_ids.get(content);
  if (id === undefined) {
    throw new TokenizerError(
      `field "${name}": token ${JSON.stringify(content)} is not in the vocabulary`,
      file,
    );
  }
  return id;
}

/** Optional boolean flag of tokenizer_config.json (add_bos_token, add_eos_token). */
export function booleanFlag(
  config: Record<string, unknown>,
  name: string,
  file: string,
): boolean | undefined {
  const value = config[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") {
    throw new TokenizerError(`field "${name}": expected true or false, found ${JSON.stringify(value)}`, file);
  }
  return value;
}

/**
 * The ids tokenizer.json's post-processor puts before and after a single sequence, found by running it on a
 * sentinel token. Null when the template is not "prefix + sequence + suffix" (then encode() defers to the library).
 */
export function templateAffixes(lib: LibTokenizer): { prefix: number[]; suffix: number[] } | null {
  if (lib.post_processor === null) return { prefix: [], suffix: [] };
  const sentinel = "\u0000rho1-sentinel\u0000";
  const { tokens } = lib.post_processor([sentinel], null, true);
  const at = tokens.indexOf(sentinel);
  if (at < 0 || tokens.indexOf(sentinel, at + 1) >= 0) return null;
  const none = lib.post_processor([sentinel], null, false).tokens;
  if (none.length !== 1 || none[0] !== sentinel) return null;
  return {
    prefix: tokens.slice(0, at).map((t) => tokenStringToId(lib, t)),
    suffix: tokens.slice(at + 1).map((t) => tokenStringToId(lib, t)),
  };
}
