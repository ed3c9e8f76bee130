export interface EncodeOptions {
  /** Add the BOS/EOS tokens the folder asks for (tokenizer_config flags, else tokenizer.json's template). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (`<s>`, `</s>`, ...) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

export interface CorpusOptions {
  /** Turn literal special-token strings such as `<s>` in the text into control tokens. Default false: web text
   *  that contains `<s>` is tokenized as the characters `<`, `s`, `>`. */
  parseSpecial?: boolean;
}

export interface ParallelCorpusOptions extends CorpusOptions {
  /** Number of worker threads; default: the number of CPU cores. 1 runs on the calling thread. */
  workers?: number;
}

/** What a tokenizer is, fixed when it is loaded. */
export interface TokenizerInfo {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** From tokenizer_config.json (`add_bos_token` / `add_eos_token`), else what tokenizer.json's post-processor adds. */
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** sha256 hex of the tokenizer.json bytes. */
  readonly hash: string;
  /** The folder it was loaded from. */
  readonly dir: string;
}

export interface Tokenizer extends TokenizerInfo {
  encode(text: string, opts?: EncodeOptions): number[];
  encodeBatch(texts: string[], opts?: EncodeOptions): number[][];
  decode(ids: number[], opts?: DecodeOptions): string;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** Corpus path: fast, exactly the ids of encode(text, {addSpecialTokens: false}) when parseSpecial is true; with
   *  parseSpecial false (the default) literal special-token strings stay text. */
  encodeCorpus(texts: string[], opts?: CorpusOptions): number[][];
  /** encodeCorpus spread over worker threads (documents in contiguous chunks); same ids, same order. */
  encodeCorpusParallel(texts: string[], opts?: ParallelCorpusOptions): Promise<number[][]>;
}
