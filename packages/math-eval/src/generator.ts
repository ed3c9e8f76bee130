/**
 * Decoding as the harness does it with vLLM: greedy, at most 1024 new tokens, stop strings
 * `</s>`, `\n\nQuestion:`, `\n\nProblem:` (removed from the text) and EOS; the prompt is encoded with BOS.
 * Prompt plus completion never exceed the model's max_position_embeddings (vLLM's default max_model_len): each row
 * gets min(max_tokens, context − prompt length) new tokens, and a prompt that fills the context gets "".
 * Typed structurally so this package needs neither a model nor a tokenizer to be tested.
 */
import { STOP_STRINGS } from "./prompts.ts";
import { pyRstrip } from "./python.ts";

/** What the eval loop needs: a batch of prompts in, a batch of raw completions out. */
export type Generator = (prompts: string[]) => Promise<string[]>;

/** The slice of @rho1/tokenizer's Tokenizer used here. */
export interface TextTokenizer {
  readonly bosId: number | null;
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
}

export interface GeneratedRow {
  ids: number[];
  text?: string;
  /** The row stopped at the model's context, not at max_tokens. */
  contextLimited?: boolean;
}

/** The slice of @rho1/transformer's CausalLM used here (its generate() applies the context limit). */
export interface GenerativeModel {
  generate(
    prompts: number[][],
    opts?: {
      maxNewTokens?: number;
      temperature?: number;
      stop?: { strings: string[]; decode: (ids: number[]) => string };
      onToken?: (row: number, id: number) => void;
      onNotice?: ((line: string) => void) | null;
    },
  ): GeneratedRow[] | Promise<GeneratedRow[]>;
}

export interface ModelGeneratorOptions {
  maxNewTokens?: number;
  stop?: readonly string[];
  /** Called per batch with its new tokens (for tokens/s) and how many rows stopped at the model's context. */
  onBatch?: (newTokens: number, seconds: number, contextLimited: number) => void;
}

/** vLLM drops the stop string and everything after it. */
export function cutAtStop(text: string, stop: readonly string[]): string {
  let end = text.length;
  for (const s of stop) {
    const at = text.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** Encodes with BOS (the HF tokenizer default vLLM uses; added if the tokenizer config does not). */
export function encodeWithBos(tokenizer: TextTokenizer, text: string): number[] {
  const ids = tokenizer.encode(text, { addSpecialTokens: true });
  if (tokenizer.bosId !== null && ids[0] !== tokenizer.bosId) ids.unshift(tokenizer.bosId);
  return ids;
}

/** A Generator backed by a causal LM: greedy, batched as given, stop strings cut, text rstripped. */
export function modelGenerator(
  model: GenerativeModel,
  tokenizer: TextTokenizer,
  options: ModelGeneratorOptions = {},
): Generator {
  const stop = [...(options.stop ?? STOP_STRINGS)];
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  return async (prompts) => {
    const t0 = performance.now();
    const results = await model.generate(
      prompts.map((p) => encodeWithBos(tokenizer, p)),
      {
        maxNewTokens: options.maxNewTokens ?? 1024,
        temperature: 0,
        stop: { strings: stop, decode },
        onNotice: null,
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    options.onBatch?.(
      results.reduce((n, r) => n + r.ids.length, 0),
      seconds,
      results.filter((r) => r.contextLimited).length,
    );
    return results.map((r) => pyRstrip(cutAtStop(r.text ?? decode(r.ids), stop)));
  };
}
