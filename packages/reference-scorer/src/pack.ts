/**
 * Tokenize and pack one unit's documents into fixed-length sequences.
 *
 * Each non-empty document becomes [BOS] + tokens + [EOS]: BOS when the tokenizer adds one (Llama's does, and
 * the reference model was trained to see it at document starts), EOS always (when the tokenizer has one), so
 * the model sees where a document ends and the next begins. Documents are concatenated and cut into rows of
 * seqLen tokens; a document may span rows. Packing restarts at every unit (row group): the unit's last row is
 * right-padded (mask 0), which costs at most one partial row per unit but makes each unit's output depend on
 * that unit alone, so resuming, sharding and merging reproduce the single-process bytes exactly.
 */
import { ScoreError } from "./errors.ts";

/** What the scorer needs from @rho1/tokenizer's Tokenizer (a structural subset, so tests can pass a stand-in). */
export interface CorpusTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly addBos: boolean;
  readonly hash: string;
  encodeCorpus(texts: string[], opts?: { parseSpecial?: boolean }): number[][];
}

export interface PackedUnit {
  seqLen: number;
  numSequences: number;
  /** [numSequences * seqLen] token ids; padding positions hold padId. */
  ids: Int32Array;
  /** [numSequences] real tokens per row (a prefix; the rest is padding). */
  lengths: Uint32Array;
  /** [numDocuments * 3]: (row, position of the document's first token, token count incl. BOS/EOS). */
  docs: Uint32Array;
  numDocuments: number;
  /** Empty or whitespace-only documents, skipped. */
  skipped: number;
  /** Real (non-padding) tokens. */
  tokens: number;
  /** Largest token id seen (-1 when none), to check it fits the model's vocabulary. */
  maxId: number;
}

export interface PackOptions {
  seqLen: number;
  /** Prepend BOS to every document (default: the tokenizer's addBos). */
  bos?: boolean;
  /** Texts per encodeCorpus call (bounds the temporary number[][]). */
  encodeBatch?: number;
}

export function padIdOf(tokenizer: CorpusTokenizer): number {
  return tokenizer.padId ?? tokenizer.eosId ?? 0;
}

export function packDocuments(
  texts: (string | null)[],
  tokenizer: CorpusTokenizer,
  options: PackOptions,
): PackedUnit {
  const { seqLen, encodeBatch = 256 } = options;
  const bos = options.bos ?? tokenizer.addBos;
  if (bos && tokenizer.bosId === null)
    throw new ScoreError("tokenizer", "BOS requested but the tokenizer has no BOS token");
  const kept: string[] = [];
  let skipped = 0;
  for (const text of texts) {
    if (text === null || text.trim() === "") skipped++;
    else kept.push(text);
  }
  // Grow-as-needed token stream and document table.
  let stream = new Int32Array(Math.max(seqLen, 1024));
  let used = 0;
  const docStarts: number[] = [];
  const docLengths: number[] = [];
  let maxId = -1;
  const push = (id: number) => {
    if (used === stream.length) {
      const bigger = new Int32Array(stream.length * 2);
      bigger.set(stream);
      stream = bigger;
    }
    stream[used++] = id;
    if (id > maxId) maxId = id;
  };
  for (let b = 0; b < kept.length; b += encodeBatch) {
    const encoded = tokenizer.encodeCorpus(kept.slice(b, b + encodeBatch));
    for (const ids of encoded) {
      const start = used;
      if (bos) push(tokenizer.bosId as number);
      for (const id of ids) push(id);
      if (tokenizer.eosId !== null) push(tokenizer.eosId);
      docStarts.push(start);
      docLengths.push(used - start);
    }
  }
  const numSequences = Math.ceil(used / seqLen);
  const ids = new Int32Array(numSequences * seqLen).fill(padIdOf(tokenizer));
  ids.set(stream.subarray(0, used));
  const lengths = new Uint32Array(numSequences);
  for (let s = 0; s < numSequences; s++) lengths[s] = Math.min(seqLen, used - s * seqLen);
  const docs = new Uint32Array(docStarts.length * 3);
  for (let d = 0; d < docStarts.length; d++) {
    docs[3 * d] = Math.floor(docStarts[d] / seqLen);
    docs[3 * d + 1] = docStarts[d] % seqLen;
    docs[3 * d + 2] = docLengths[d];
  }
  return {
    seqLen,
    numSequences,
    ids,
    lengths,
    docs,
    numDocuments: docStarts.length,
    skipped,
    tokens: used,
    maxId,
  };
}
