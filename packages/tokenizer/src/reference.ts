import { readTokenizerFiles } from "./files.ts";
import { constructLibrary } from "./library.ts";

/**
 * The plain @huggingface/tokenizers encode() that the fast paths must reproduce id for id (tests, verify script).
 * parseSpecial true: the library as loaded, encode(text, {add_special_tokens: false}).
 * parseSpecial false: the same library built without the special added tokens, so that "<s>" in the text is never
 * split out as a control token (the definition of the corpus path's default).
 */
export function libraryReference(dir: string, parseSpecial: boolean): (text: string) => number[] {
  const files = readTokenizerFiles(dir);
  const added = (files.json.added_tokens ?? []) as { special?: boolean }[];
  const lib = constructLibrary(
    files.json,
    files.config,
    parseSpecial ? added : added.filter((t) => !t.special),
  );
  return (text) => lib.encode(text, { add_special_tokens: false }).ids;
}
