export { TokenizerError } from "./errors.ts";
export { loadTokenizer } from "./load.ts";
export type {
  CorpusOptions,
  DecodeOptions,
  EncodeOptions,
  ParallelCorpusOptions,
  Tokenizer,
} from "./types.ts";
