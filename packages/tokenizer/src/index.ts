export { TokenizerError } from "./errors.ts";
export { loadTokenizer } from "./load.ts";
export { libraryReference } from "./reference.ts";
export type {
  CorpusOptions,
  DecodeOptions,
  EncodeOptions,
  ParallelCorpusOptions,
  Tokenizer,
} from "./types.ts";
