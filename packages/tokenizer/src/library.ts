import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { TokenizerError } from "./errors.ts";

/**
 * The parts of @huggingface/tokenizers' Tokenizer that the fast corpus path mirrors. They are public fields or
 * private-by-declaration fields of the 0.2.0 build; `checkInternals` verifies they exist so that a library upgrade
 * that renames them fails loudly at load time instead of silently changing ids.
 */
export interface LibAddedToken {
  content: string;
  id: number;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

export interface LibModel {
  (tokens: string[]): string[];
  tokens_to_ids: Map<string, number>;
  vocab: string[];
  unk_token_id?: number;
  unk_token?: string;
  fuse_unk: boolean;
  config: Record<string, unknown>;
}

export interface LibTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, opts?: { section_index?: number }) => string[]) | null;
  model: LibModel;
  post_processor:
    | ((tokens: string[], pair: string[] | null, addSpecial: boolean) => { tokens: string[] })
    | null;
  added_tokens: LibAddedToken[];
  added_tokens_map: Map<string, LibAddedToken>;
  special_tokens: string[];
  remove_space?: boolean;
  do_lowercase_and_remove_accent: boolean;
}

const SUPPORTED_MODELS = new Set(["BPE", "WordPiece", "Unigram"]);

/** Rejects tokenizer.json contents that @huggingface/tokenizers would mis-run rather than refuse. */
function validate(json: Record<string, unknown>, file: string): void {
  const model = json.model as Record<string, unknown> | undefined;
  if (model === null || typeof model !== "object" || Array.isArray(model)) {
    throw new TokenizerError(`field "model": expected an object, found ${JSON.stringify(model)}`, file);
  }
  const type = model.type;
  if (typeof type !== "string" || !SUPPORTED_MODELS.has(type)) {
    throw new TokenizerError(
      `field "model.type": expected one of ${[...SUPPORTED_MODELS].join(", ")} (what @huggingface/tokenizers runs), found ${JSON.stringify(type)}`,
      file,
    );
  }
  if (model.vocab === null || typeof model.vocab !== "object") {
    throw new TokenizerError(
      `field "model.vocab": expected an object or array, found ${JSON.stringify(model.vocab)}`,
      file,
    );
  }
  if (type === "BPE") {
    if (!Array.isArray(model.merges)) {
      throw new TokenizerError(`field "model.merges": expected an array, found ${typeof model.merges}`, file);
    }
    if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
      throw new TokenizerError(
        `field "model.dropout": BPE dropout ${model.dropout} is not supported (not deterministic)`,
        file,
      );
    }
  }
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) {
    throw new TokenizerError(`field "added_tokens": expected an array, found ${typeof added}`, file);
  }
  for (const [i, t] of added.entries()) {
    const token = t as Record<string, unknown>;
    if (
      token === null ||
      typeof token !== "object" ||
      typeof token.content !== "string" ||
      !Number.isInteger(token.id)
    ) {
      throw new TokenizerError(
        `field "added_tokens[${i}]": expected {id: integer, content: string}, found ${JSON.stringify(t)}`,
        file,
      );
    }
  }
  // The JS Metaspace pre-tokenizer never splits; with split=true (the Rust default) the Rust library cuts the text
  // before every "▁", which gives different ids for runs of spaces. Refuse rather than tokenize differently.
  const checkMetaspace = (pre: unknown): void => {
    if (pre === null || typeof pre !== "object") return;
    const p = pre as Record<string, unknown>;
    if (p.type === "Metaspace" && p.split !== false) {
      throw new TokenizerError(
        `pre_tokenizer Metaspace with split=${JSON.stringify(p.split ?? true)} is not supported by @huggingface/tokenizers (it would not split at "▁"); only split=false runs exactly`,
        file,
      );
    }
    if (Array.isArray(p.pretokenizers)) for (const inner of p.pretokenizers) checkMetaspace(inner);
  };
  checkMetaspace(json.pre_tokenizer);
}

/** `new Tokenizer(json, config)` of the library, with `addedTokens` as added_tokens (no validation). */
export function constructLibrary(
  json: Record<string, unknown>,
  config: Record<string, unknown>,
  addedTokens: unknown[],
): LibTokenizer {
  // The library insists on these keys being present (null is allowed).
  const full = {
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    ...json,
    added_tokens: addedTokens,
  };
  return new HfTokenizer(full, config) as unknown as LibTokenizer;
}

/** Builds the library tokenizer, turning its exceptions into TokenizerError naming tokenizer.json. */
export function buildLibrary(
  json: Record<string, unknown>,
  config: Record<string, unknown>,
  file: string,
): LibTokenizer {
  validate(json, file);
  let lib: LibTokenizer;
  try {
    lib = constructLibrary(json, config, (json.added_tokens ?? []) as unknown[]);
    lib.encode("Hello world <s>", { add_special_tokens: true });
  } catch (error) {
    throw new TokenizerError(
      `@huggingface/tokenizers cannot run this tokenizer: ${(error as Error).message}`,
      file,
    );
  }
  const missing = ["added_tokens_map", "added_tokens", "special_tokens", "model"].filter(
    (k) => (lib as unknown as Record<string, unknown>)[k] === undefined,
  );
  if (missing.length > 0 || !(lib.model.tokens_to_ids instanceof Map)) {
    throw new TokenizerError(
      `@huggingface/tokenizers internals changed (missing ${missing.join(", ") || "model.tokens_to_ids"}); pin version 0.2.0`,
      file,
    );
  }
  return lib;
}

/** The byte-fallback token of byte `b`: "<0x0A>" (two upper-case hex digits, as Llama/Mistral vocabularies spell it). */
export function byteTokenName(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

/** The id the library's encode() gives a token string (added tokens first, then the model vocab, then unk). */
export function tokenStringToId(lib: LibTokenizer, token: string): number {
  const id =
    lib.added_tokens_map.get(token)?.id ?? lib.model.tokens_to_ids.get(token) ?? lib.model.unk_token_id;
  if (id === undefined)
    throw new TokenizerError(`token ${JSON.stringify(token)} has no id and the model has no unk token`);
  return id;
}
