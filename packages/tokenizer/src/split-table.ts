import { byteTokenName, type LibTokenizer } from "./library.ts";

/**
 * Where a BPE word can be cut without changing a single id.
 *
 * BPE only ever merges two adjacent symbols (a, b) listed in `merges`. A cut between characters x and y can only
 * be crossed by a merge whose left part ends with x and whose right part starts with y. If no merge has that
 * (last char, first char) pair, no merge ever crosses the cut, the merges on either side never interact (each side's
 * pairs, ranks and left-to-right tie order are unchanged), and encoding the two pieces separately gives exactly the
 * ids of encoding the whole word. For Llama/Mistral vocabularies "▁" is only merged with other "▁", so every word
 * start ("x▁" with x not "▁") is such a cut, as are cuts around characters that no merge touches (newlines, ...).
 *
 * Preconditions checked by `buildSplitTable` (else it returns null and callers must not cut):
 * - the model is BPE without end-of-word / continuing-subword suffixes and without ignore_merges (those make a
 *   token's encoding depend on its position in the word, or on the whole word being in the vocabulary);
 * - unknown tokens cannot be fused across pieces: fuse_unk is off, or byte fallback covers every byte and no merge
 *   produces the unk token.
 * Cuts inside a UTF-16 surrogate pair are never made (the model works on code points).
 */
export interface SplitTable {
  /** Per UTF-16 code unit: row of the pair matrix, or -1 when the unit never ends a merge's left part. */
  endIndex: Int32Array;
  /** Per UTF-16 code unit: column of the pair matrix, or -1 when it never starts a merge's right part. */
  startIndex: Int32Array;
  /** pairs[endIndex[x] * nStart + startIndex[y]] = 1 when a cut between x and y is unsafe. */
  pairs: Uint8Array;
  nStart: number;
}

const isSurrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;

export function buildSplitTable(lib: LibTokenizer): SplitTable | null {
  const model = lib.model as unknown as {
    config: Record<string, unknown>;
    merges?: [string, string][];
    tokens_to_ids: Map<string, number>;
    unk_token?: string;
    fuse_unk: boolean;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
    end_of_word_suffix?: string;
    continuing_subword_suffix?: string | null;
  };
  if (model.config.type !== "BPE" || !Array.isArray(model.merges)) return null;
  if (model.ignore_merges || model.end_of_word_suffix || model.continuing_subword_suffix) return null;
  if (model.config.continuing_subword_prefix || model.config.end_of_word_suffix) return null;
  if (model.fuse_unk) {
    let allBytes = model.byte_fallback === true;
    for (let b = 0; allBytes && b < 256; b++) {
      allBytes = model.tokens_to_ids.has(byteTokenName(b));
    }
    if (!allBytes) return null;
    const unk = model.unk_token;
    if (unk != null && model.merges.some(([a, b]) => a + b === unk)) return null;
  }

  // Index the characters that end a left part / start a right part, then a dense pair matrix. UTF-16 surrogates
  // get one extra row and column of their own, all unsafe: a cut inside a surrogate pair, after an astral character
  // whose next character starts a right part, or before one whose previous character ends a left part is never
  // made. (A cut next to a surrogate where the other side takes part in no merge at all stays safe.)
  const endIndex = new Int32Array(0x10000).fill(-1);
  const startIndex = new Int32Array(0x10000).fill(-1);
  let nEnd = 0;
  let nStart = 0;
  for (const [a, b] of model.merges) {
    if (a.length === 0 || b.length === 0) continue;
    const x = a.charCodeAt(a.length - 1);
    const y = b.charCodeAt(0);
    if (endIndex[x] < 0 && !isSurrogate(x)) endIndex[x] = nEnd++;
    if (startIndex[y] < 0 && !isSurrogate(y)) startIndex[y] = nStart++;
  }
  const surrogateRow = nEnd++;
  const surrogateColumn = nStart++;
  // Llama/Mistral: about 250 x 250. A vocabulary whose merges touch so many characters that the matrix would pass
  // 64 MB is not cut at all (still exact, only slower).
  if (nEnd * nStart > 1 << 26) return null;
  endIndex.fill(surrogateRow, 0xd800, 0xe000);
  startIndex.fill(surrogateColumn, 0xd800, 0xe000);
  const pairs = new Uint8Array(nEnd * nStart);
  pairs.fill(1, surrogateRow * nStart, (surrogateRow + 1) * nStart);
  for (let e = 0; e < nEnd; e++) pairs[e * nStart + surrogateColumn] = 1;
  for (const [a, b] of model.merges) {
    if (a.length === 0 || b.length === 0) continue;
    pairs[endIndex[a.charCodeAt(a.length - 1)] * nStart + startIndex[b.charCodeAt(0)]] = 1;
  }
  return { endIndex, startIndex, pairs, nStart };
}
