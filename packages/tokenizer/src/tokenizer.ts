import { CorpusEncoder } from "./corpus.ts";
import { TokenizerError } from "./errors.ts";
import type { LibTokenizer } from "./library.ts";
import { encodeParallel } from "./parallel.ts";
import type {
  CorpusOptions,
  DecodeOptions,
  EncodeOptions,
  ParallelCorpusOptions,
  Tokenizer,
  TokenizerInfo,
} from "./types.ts";

export interface TokenizerParts {
  dir: string;
  lib: LibTokenizer;
  /** Ids added around a single sequence; null: the post-processor is not prefix+sequence+suffix, use the library. */
  affixes: { prefix: number[]; suffix: number[] } | null;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  hash: string;
}

/** A base that takes TokenizerInfo's fields from one object, so that they are declared once (types.ts). */
const WithInfo = class {
  constructor(info: TokenizerInfo) {
    Object.assign(this, info);
  }
} as new (
  info: TokenizerInfo,
) => TokenizerInfo;

/** A Hugging Face tokenizer folder: library-exact ids, with encode() and the corpus path on the cached encoder. */
export class HfFolderTokenizer extends WithInfo implements Tokenizer {
  /** The @huggingface/tokenizers instance (for reference comparisons). */
  readonly library: LibTokenizer;
  private readonly affixes: TokenizerParts["affixes"];
  private readonly corpus: CorpusEncoder;

  constructor(parts: TokenizerParts) {
    const { dir, bosId, eosId, padId, hash, affixes } = parts;
    super({
      dir,
      vocabSize: parts.lib.model.vocab.length,
      bosId,
      eosId,
      padId,
      hash,
      addBos: bosId !== null && (affixes?.prefix.includes(bosId) ?? false),
      addEos: eosId !== null && (affixes?.suffix.includes(eosId) ?? false),
    });
    this.library = parts.lib;
    this.affixes = affixes;
    this.corpus = new CorpusEncoder(parts.lib);
  }

  /** True when the corpus path cuts words into cached pieces (see split-table.ts); false: exact but uncached. */
  get segmented(): boolean {
    return this.corpus.segmented;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new TokenizerError(`encode expects a string, found ${typeof text}`);
    const addSpecial = opts.addSpecialTokens ?? true;
    if (!addSpecial) return this.corpus.encode(text, true);
    if (this.affixes === null) return this.library.encode(text, { add_special_tokens: true }).ids;
    const out = this.affixes.prefix.slice();
    this.corpus.encode(text, true, out);
    for (const id of this.affixes.suffix) out.push(id);
    return out;
  }

  encodeBatch(texts: string[], opts: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, opts));
  }

  decode(ids: number[], opts: DecodeOptions = {}): string {
    if (ids.length === 0) return "";
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new TokenizerError(`decode: id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      }
    }
    return this.library.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.library.model.vocab[id] : undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.library.model.tokens_to_ids.get(token);
  }

  encodeCorpus(texts: string[], opts: CorpusOptions = {}): number[][] {
    const parseSpecial = opts.parseSpecial ?? false;
    const out: number[][] = new Array(texts.length);
    for (let i = 0; i < texts.length; i++) out[i] = this.corpus.encode(documentAt(texts, i), parseSpecial);
    return out;
  }

  /** encodeCorpus into one flat array with per-document offsets (what workers send back; no per-document arrays). */
  encodeCorpusFlat(texts: string[], opts: CorpusOptions = {}): { ids: Int32Array; offsets: Int32Array } {
    const parseSpecial = opts.parseSpecial ?? false;
    const flat: number[] = [];
    const offsets = new Int32Array(texts.length + 1);
    for (let i = 0; i < texts.length; i++) {
      this.corpus.encode(documentAt(texts, i), parseSpecial, flat);
      offsets[i + 1] = flat.length;
    }
    const ids = new Int32Array(flat.length);
    for (let k = 0; k < flat.length; k++) ids[k] = flat[k];
    return { ids, offsets };
  }

  encodeCorpusParallel(texts: string[], opts: ParallelCorpusOptions = {}): Promise<number[][]> {
    return encodeParallel(this, texts, opts);
  }
}

/** texts[i], checked to be a string (corpora come from JSON lines and parquet, not typed code). */
function documentAt(texts: string[], i: number): string {
  const text = texts[i];
  if (typeof text !== "string") {
    throw new TokenizerError(`encodeCorpus: document ${i} is ${typeof text}, expected a string`);
  }
  return text;
}
