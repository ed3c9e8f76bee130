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

/**
 * Documents appended as [BOS] + tokens + [EOS] to one growing token stream, then cut into rows. The scorer packs
 * one unit per packer (so units stay independent); training packs its whole corpus through one packer.
 */
export class DocumentPacker {
  private stream: Int32Array;
  private used = 0;
  private readonly docStarts: number[] = [];
  private readonly docLengths: number[] = [];
  private maxId = -1;
  private skipped = 0;
  private readonly bos: boolean;
  private readonly encodeBatch: number;

  constructor(
    private readonly tokenizer: CorpusTokenizer,
    options: Omit<PackOptions, "seqLen"> = {},
  ) {
    this.bos = options.bos ?? tokenizer.addBos;
    this.encodeBatch = options.encodeBatch ?? 256;
    if (this.bos && tokenizer.bosId === null)
      throw new ScoreError("tokenizer", "BOS requested but the tokenizer has no BOS token");
    this.stream = new Int32Array(1024);
  }

  /** Real tokens so far. */
  get tokens(): number {
    return this.used;
  }

  /** Appends the non-empty documents of `texts` (null, empty and whitespace-only ones are counted as skipped). */
  add(texts: (string | null)[]): void {
    const kept: string[] = [];
    for (const text of texts) {
      if (text === null || text.trim() === "") this.skipped++;
      else kept.push(text);
    }
    const { tokenizer } = this;
    for (let b = 0; b < kept.length; b += this.encodeBatch) {
      for (const ids of tokenizer.encodeCorpus(kept.slice(b, b + this.encodeBatch))) {
        const start = this.used;
        this.reserve(start + ids.length + 2);
        if (this.bos) this.push(tokenizer.bosId as number);
        for (const id of ids) this.push(id);
        if (tokenizer.eosId !== null) this.push(tokenizer.eosId);
        this.docStarts.push(start);
        this.docLengths.push(this.used - start);
      }
    }
  }

  /** Cuts the stream into rows of seqLen, the last right-padded with the pad id. The packer is spent after this. */
  finish(seqLen: number): PackedUnit {
    const used = this.used;
    const numSequences = Math.ceil(used / seqLen);
    this.reserve(numSequences * seqLen);
    const ids = this.stream.subarray(0, numSequences * seqLen);
    ids.fill(padIdOf(this.tokenizer), used);
    const lengths = new Uint32Array(numSequences);
    for (let s = 0; s < numSequences; s++) lengths[s] = Math.min(seqLen, used - s * seqLen);
    const docs = new Uint32Array(this.docStarts.length * 3);
    for (let d = 0; d < this.docStarts.length; d++) {
      docs[3 * d] = Math.floor(this.docStarts[d] / seqLen);
      docs[3 * d + 1] = this.docStarts[d] % seqLen;
      docs[3 * d + 2] = this.docLengths[d];
    }
    return {
      seqLen,
      numSequences,
      ids,
      lengths,
      docs,
      numDocuments: this.docStarts.length,
      skipped: this.skipped,
      tokens: used,
      maxId: this.maxId,
    };
  }

  private reserve(size: number): void {
    if (size <= this.stream.length) return;
    let grown = this.stream.length * 2;
    while (grown < size) grown *= 2;
    const bigger = new Int32Array(grown);
    bigger.set(this.stream.subarray(0, this.used));
    this.stream = bigger;
  }

  private push(id: number): void {
    this.stream[this.used++] = id;
    if (id > this.maxId) this.maxId = id;
  }
}

/** Packs one unit's documents on their own (see the file comment for why units restart packing). */
export function packDocuments(
  texts: (string | null)[],
  tokenizer: CorpusTokenizer,
  options: PackOptions,
): PackedUnit {
  const packer = new DocumentPacker(tokenizer, options);
  packer.add(texts);
  return packer.finish(options.seqLen);
}
