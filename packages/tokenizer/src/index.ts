export { TokenizerError } from "./errors.ts";
export { loadTokenizer } from "./load.ts";
export { type PortableTokenizerFiles, portableTokenizerFiles, tokenizerJsonText } from "./portable.ts";
export { libraryReference } from "./reference.ts";
// The public types (Tokenizer and its option bags) are all of types.ts.
export type * from "./types.ts";
