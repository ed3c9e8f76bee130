/**
 * tokenizer_config.json and special_tokens_map.json in the one form that both transformers 4.x and 5.x load.
 *
 * transformers 5 saves the unnamed extra special tokens as a list, `"extra_special_tokens": ["<s>", ...]`, and no
 * longer writes `additional_special_tokens`. transformers 4.x (4.46-4.57, `PreTrainedTokenizerBase.__init__`) does
 * `self._set_model_specific_special_tokens(kwargs.pop("extra_special_tokens", {}))`, which calls `.keys()` on it:
 * a list fails with `AttributeError: 'list' object has no attribute 'keys'`. Both versions read
 * `additional_special_tokens` as a list (5.x renames it to `extra_special_tokens` when that key is absent) and a
 * dict-valued `extra_special_tokens` as named model-specific tokens, so that is what is written.
 */

/** transformers' VERY_LARGE_INTEGER (int(1e30)): model_max_length of a tokenizer without a limit. */
const VERY_LARGE_INTEGER = "1000000000000000019884624838656";
const NAMED_SPECIAL_TOKENS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;

const tokenContent = (value: unknown): string | null =>
  typeof value === "string"
    ? value
    : value !== null &&
        typeof value === "object" &&
        typeof (value as { content?: unknown }).content === "string"
      ? (value as { content: string }).content
      : null;

export interface PortableTokenizerFiles {
  /** tokenizer_config.json: the source's, with list-valued extra_special_tokens moved to additional_special_tokens. */
  tokenizerConfig: Record<string, unknown>;
  /** special_tokens_map.json: the named special tokens and additional_special_tokens. */
  specialTokensMap: Record<string, unknown>;
}

/** The portable pair for a folder's tokenizer_config.json (and its special_tokens_map.json, if it has one). */
export function portableTokenizerFiles(
  config: Record<string, unknown>,
  specialTokensMap: Record<string, unknown> = {},
): PortableTokenizerFiles {
  const tokenizerConfig: Record<string, unknown> = { ...config };
  const additional: string[] = [];
  const add = (values: unknown) => {
    if (!Array.isArray(values)) return;
    for (const v of values) {
      const content = tokenContent(v);
      if (content !== null && !additional.includes(content)) additional.push(content);
    }
  };
  add(config.additional_special_tokens);
  add(specialTokensMap.additional_special_tokens);
  if (Array.isArray(config.extra_special_tokens)) {
    add(config.extra_special_tokens);
    delete tokenizerConfig.extra_special_tokens;
  }
  tokenizerConfig.additional_special_tokens = additional;
  // Load-time state that transformers 5 writes back into the file; not configuration.
  delete tokenizerConfig.is_local;
  delete tokenizerConfig.local_files_only;

  const map: Record<string, unknown> = {};
  for (const name of NAMED_SPECIAL_TOKENS) {
    const content = tokenContent(config[name]) ?? tokenContent(specialTokensMap[name]);
    if (content !== null) map[name] = content;
  }
  map.additional_special_tokens = additional;
  return { tokenizerConfig, specialTokensMap: map };
}

/**
 * JSON text as transformers writes it (indent 2). An integer beyond 2^53 (model_max_length = int(1e30)) is written
 * as Python's exact integer rather than JavaScript's `1e+30`, which Python would read back as a float.
 */
export function tokenizerJsonText(value: Record<string, unknown>): string {
  const big = "__rho1_very_large_integer__";
  const text = JSON.stringify(value, (_key, v) => (v === 1e30 ? big : v), 2);
  return `${text.replaceAll(`"${big}"`, VERY_LARGE_INTEGER)}\n`;
}
