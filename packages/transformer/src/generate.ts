/** Batched autoregressive generation with a KV cache (left padding + per-row positions + key mask). */
import { Rho1Error } from "@rho1/io";
import type { CausalLMCore, KvCache } from "./model.ts";
import { prepareInputs } from "./model.ts";
import { mulberry32, sampleToken } from "./sampling.ts";
import { tf } from "./tf.ts";

export interface GenerateOptions {
  /** Default 64. */
  maxNewTokens?: number;
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Nucleus sampling threshold in (0, 1]; default 1. */
  topP?: number;
  /** PRNG seed for sampling; default 0. */
  seed?: number;
  /** Tokens that end a row; default the config's eos_token_id; null = none. */
  eosTokenId?: number | number[] | null;
  /**
   * Stop strings, checked on the decoded new text after every token. `decode` gets the new ids and the row index
   * (so a caller can decode prompt + new ids and cut the prompt's text, keeping a leading space exact).
   */
  stop?: { strings: string[]; decode: (ids: number[], row: number) => string };
  onToken?: (row: number, id: number) => void;
  /**
   * Where the one-line notice goes when a row stops at the model's context (max_position_embeddings); default
   * stderr, null = silent. Prompt plus new tokens never exceed the context, as in vLLM (max_model_len).
   */
  onNotice?: ((line: string) => void) | null;
}

export interface GenerateResult {
  /** New tokens only: the EOS token is not included; a stop string's tokens are trimmed. */
  ids: number[];
  /** With stop.decode: the decoded new text, the stop string (and what followed it) removed. */
  text?: string;
  finishReason: "eos" | "stop" | "length";
  /** True when the row stopped at the model's context rather than at maxNewTokens (finishReason "length"). */
  contextLimited?: boolean;
}

/**
 * The model produced NaN or ±Inf logits (NaN weights, an overflow): generation stops rather than emit tokens picked
 * from garbage (argmax over NaN is token 0).
 */
export class NonFiniteLogitsError extends Rho1Error {
  override name = "NonFiniteLogitsError";
  constructor(
    readonly prompt: number,
    readonly newToken: number,
  ) {
    super(
      "non_finite_logits",
      `the model's logits are not finite (NaN or Inf) for prompt ${prompt} at new token ${newToken}: check its weights`,
      { prompt, newToken },
    );
  }
}

interface Row {
  ids: number[];
  text?: string;
  done: boolean;
  finishReason: GenerateResult["finishReason"];
  /** New tokens this row may produce: min(maxNewTokens, context − prompt length), at least 0. */
  cap: number;
  /** cap < maxNewTokens: the context, not maxNewTokens, bounds this row. */
  contextBound: boolean;
}

/** Rows of a batch stop at min(maxNewTokens, context − prompt length): vLLM's max_model_len rule. */
export function newTokenCaps(promptLengths: number[], maxNewTokens: number, context: number): number[] {
  return promptLengths.map((n) => Math.max(0, Math.min(maxNewTokens, context - n)));
}

/** Each decoding step yields the tensor it needs read back (argmax ids or logits) and receives its values. */
type Steps = Generator<tf.Tensor, GenerateResult[], Float32Array | Int32Array>;

/** Generation with synchronous reads: for host backends (cpu, wasm, tfjs-node); webgpu needs generateAsync. */
export function generate(
  model: CausalLMCore,
  prompts: number[][],
  opts: GenerateOptions = {},
): GenerateResult[] {
  const steps = decode(model, prompts, opts);
  let next = steps.next();
  while (!next.done)
    next = steps.next(readBack(steps, next.value, (t) => t.dataSync() as Float32Array | Int32Array));
  return next.value;
}

/** Generation reading each step back with `await data()`: works on every backend, WebGPU included. */
export async function generateAsync(
  model: CausalLMCore,
  prompts: number[][],
  opts: GenerateOptions = {},
): Promise<GenerateResult[]> {
  const steps = decode(model, prompts, opts);
  let next = steps.next();
  while (!next.done) {
    const t = next.value;
    let values: Float32Array | Int32Array;
    try {
      values = (await t.data()) as Float32Array | Int32Array;
    } catch (error) {
      steps.throw(error); // runs the decoder's clean-up (the KV cache), then rethrows
      throw error;
    } finally {
      t.dispose();
    }
    next = steps.next(values);
  }
  return next.value;
}

/** Reads `t` (then disposes it); on failure the decoder's clean-up runs before the error propagates. */
function readBack<T>(steps: Steps, t: tf.Tensor, read: (t: tf.Tensor) => T): T {
  try {
    return read(t);
  } catch (error) {
    steps.throw(error);
    throw error;
  } finally {
    t.dispose();
  }
}

function* decode(model: CausalLMCore, prompts: number[][], opts: GenerateOptions): Steps {
  const { vocabSize } = model.config;
  const maxNew = opts.maxNewTokens ?? 64;
  const temperature = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new RangeError(`maxNewTokens must be an integer >= 0, found ${maxNew}`);
  if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, found ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], found ${topP}`);
  if (prompts.length === 0) throw new RangeError("generate needs at least one prompt");
  prompts.forEach((p, r) => {
    if (p.length === 0) throw new RangeError(`prompt ${r} is empty`);
    for (const id of p) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new RangeError(`prompt ${r}: token id ${id} is outside [0, ${vocabSize})`);
      }
    }
  });
  const eosOpt = opts.eosTokenId === undefined ? model.config.eosTokenId : opts.eosTokenId;
  const eos = new Set(eosOpt === null ? [] : Array.isArray(eosOpt) ? eosOpt : [eosOpt]);
  const random = mulberry32(opts.seed ?? 0);

  const context = model.config.maxPositionEmbeddings;
  const caps = newTokenCaps(
    prompts.map((x) => x.length),
    maxNew,
    context,
  );
  const rows: Row[] = prompts.map((_, r) => ({
    ids: [],
    done: caps[r] === 0,
    finishReason: "length",
    cap: caps[r],
    contextBound: caps[r] < maxNew,
  }));
  const results = () => {
    const out = rows.map(finish);
    const limited = out.filter((r) => r.contextLimited).length;
    if (limited > 0 && opts.onNotice !== null) {
      const notice = opts.onNotice ?? ((line: string) => process.stderr.write(`${line}\n`));
      notice(
        `generate: ${limited} of ${out.length} row(s) stopped at the model's context of ${context} positions (prompt + new tokens <= ${context})`,
      );
    }
    return out;
  };
  // Rows with no room (a prompt filling or exceeding the context) get an empty completion and never enter the batch.
  const runnable = prompts.map((_, r) => r).filter((r) => caps[r] > 0);
  if (runnable.length === 0) return results();
  const b = runnable.length;
  const p = Math.max(...runnable.map((r) => prompts[r].length));

  // Left padding: every row's last prompt token sits at column p − 1, so one decode step serves all rows.
  const ids = new Int32Array(b * p);
  const mask = new Float32Array(b * p);
  runnable.forEach((r, j) => {
    const prompt = prompts[r];
    const lead = p - prompt.length;
    for (let i = 0; i < prompt.length; i++) {
      ids[j * p + lead + i] = prompt[i];
      mask[j * p + lead + i] = 1;
    }
  });
  // Per row of the current batch: its prompt index, next position and key mask. Rows that finish are dropped from
  // the batch (and from the cache), so a long straggler does not drag finished rows along.
  let active = runnable;
  let position = runnable.map((r) => prompts[r].length);
  let keyMask: number[][] = runnable.map((_, j) => Array.from(mask.subarray(j * p, (j + 1) * p)));
  const cache: KvCache = { k: [], v: [], length: 0 };
  // Greedy reads back B token ids (the argmax runs where the logits are: first index on ties, like torch.argmax),
  // not B × V logits: `picked` holds [ids (B), row sums of the logits (B)], the sums only to see that every logit
  // is finite (NaN and Inf propagate into a sum). When sampling it holds the logits [B, V], checked here.
  const greedy = temperature === 0;
  const choose = (logits: tf.Tensor) =>
    greedy ? tf.concat([tf.cast(tf.argMax(logits, -1), "float32"), tf.sum(logits, -1)]) : logits;
  const checkFinite = (values: Float32Array | Int32Array, j: number, r: number) => {
    let finite = true;
    if (greedy) finite = Number.isFinite(values[active.length + j]);
    else
      for (let i = j * vocabSize; finite && i < (j + 1) * vocabSize; i++) finite = Number.isFinite(values[i]);
    if (!finite) throw new NonFiniteLogitsError(r, rows[r].ids.length + 1);
  };

  try {
    // Each step's tidy returns a tensor, read back outside it on purpose: tidy walks a returned Float32Array
    // element by element looking for tensors (5 ms per call at vocab 32000, half of decode time).
    let picked = yield tf.tidy(() => {
      const idsT = tf.tensor2d(ids, [b, p], "int32");
      const { positions, keyMask: km } = prepareInputs(idsT, tf.tensor2d(mask, [b, p]));
      const hidden = model.hidden(idsT, positions, km, cache);
      const last = tf.slice(hidden, [0, p - 1, 0], [b, 1, model.config.hiddenSize]);
      return choose(model.head(tf.reshape(last, [b, -1])));
    });
    for (;;) {
      const next: number[] = [];
      const keep: number[] = [];
      active.forEach((r, j) => {
        const row = rows[r];
        checkFinite(picked, j, r);
        const id = greedy
          ? picked[j]
          : sampleToken(picked, j * vocabSize, vocabSize, temperature, topP, random);
        opts.onToken?.(r, id);
        if (eos.has(id)) {
          row.done = true;
          row.finishReason = "eos";
        } else {
          row.ids.push(id);
          if (!(opts.stop && checkStop(row, r, opts.stop)) && row.ids.length >= row.cap) row.done = true;
        }
        if (!row.done) {
          keep.push(j);
          next.push(id);
        }
      });
      if (keep.length === 0) break;
      if (keep.length < active.length) {
        const index = tf.tensor1d(keep, "int32");
        const shrink = (t: tf.Tensor4D) => tf.tidy(() => tf.gather(t, index) as tf.Tensor4D);
        const [oldK, oldV] = [cache.k, cache.v];
        cache.k = oldK.map(shrink);
        cache.v = oldV.map(shrink);
        tf.dispose([index, ...oldK, ...oldV]);
        active = keep.map((j) => active[j]);
        position = keep.map((j) => position[j]);
        keyMask = keep.map((j) => keyMask[j]);
      }
      const n = active.length;
      keyMask = keyMask.map((m) => [...m, 1]);
      const positions = Int32Array.from(position);
      position = position.map((x) => x + 1);
      picked = yield tf.tidy(() => {
        const hidden = model.hidden(
          tf.tensor2d(next, [n, 1], "int32"),
          tf.tensor2d(positions, [n, 1], "int32"),
          tf.tensor2d(keyMask.flat(), [n, keyMask[0].length], "float32"),
          cache,
        );
        return choose(model.head(tf.reshape(hidden, [n, -1])));
      });
    }
  } finally {
    tf.dispose([...cache.k, ...cache.v]);
  }
  const stop = opts.stop;
  if (stop) {
    rows.forEach((row, r) => {
      row.text ??= stop.decode(row.ids, r);
    });
  }
  return results();
}

/** Ends the row at the first stop string: trims the tokens that produced it and cuts the text before it. */
function checkStop(row: Row, r: number, stop: NonNullable<GenerateOptions["stop"]>): boolean {
  if (stop.strings.length === 0) return false;
  const text = stop.decode(row.ids, r);
  let cut = -1;
  for (const s of stop.strings) {
    if (s === "") continue;
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut < 0) return false;
  let keep = row.ids.length - 1;
  while (keep > 0 && stop.decode(row.ids.slice(0, keep), r).length > cut) keep--;
  row.ids = row.ids.slice(0, keep);
  row.text = text.slice(0, cut);
  row.done = true;
  row.finishReason = "stop";
  return true;
}

function finish(row: Row): GenerateResult {
  const result: GenerateResult =
    row.text === undefined
      ? { ids: row.ids, finishReason: row.finishReason }
      : { ids: row.ids, text: row.text, finishReason: row.finishReason };
  if (row.contextBound && row.finishReason === "length") result.contextLimited = true;
  return result;
}
