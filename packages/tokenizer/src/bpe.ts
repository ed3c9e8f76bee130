import { byteTokenName, type LibTokenizer, tokenStringToId } from "./library.ts";

/**
 * The BPE model step of @huggingface/tokenizers (and of the Rust library), on integer symbols: repeatedly merge the
 * adjacent pair with the lowest merge rank, the leftmost one among equal ranks, until no listed pair is left; then
 * map symbols to ids, with byte fallback (<0xXX> tokens) or the unk token for symbols outside the vocabulary.
 *
 * The library does the same on strings (a priority queue scored rank + position/length, pairs looked up as
 * JSON.stringify([a, b])), about 30 µs for a short word under Bun; this takes well under 1 µs. Tests and the
 * verify script compare the two on every golden text and the whole math corpus.
 *
 * Only used where buildSplitTable said the configuration is plain BPE (no suffixes, no ignore_merges).
 */
export class BpeModel {
  /** Symbol id of each single BMP code unit (-1: not a known symbol; it never merges). */
  private readonly charSymbol = new Int32Array(0x10000).fill(-1);
  /**
   * Symbols: a vocabulary string is its own id (so no table of the ~100k strings has to be built); strings of the
   * merge list that are not (canonically) in the vocabulary get ids from `base` on.
   */
  private readonly vocab: string[];
  private readonly tokensToIds: Map<string, number>;
  private readonly base: number;
  private readonly extraOf = new Map<string, number>();
  private readonly extras: string[] = [];
  /** Open-addressing table of merges: (left, right) symbols -> rank and merged symbol. */
  private readonly pairMask: number;
  private readonly pairLeft: Int32Array;
  private readonly pairRight: Int32Array;
  private readonly pairRank: Int32Array;
  private readonly pairMerged: Int32Array;
  /** Ids of each symbol when it is a final token (computed on first use). */
  private readonly symbolIds: (number[] | undefined)[] = [];
  private readonly lib: LibTokenizer;
  /** Id of each <0xXX> byte token (-1 where the vocabulary lacks it); null without byte fallback. */
  private readonly byteIds: Int32Array | null;
  private readonly unkId: number | null;
  private readonly encoder = new TextEncoder();
  // Scratch buffers reused across calls (grown on demand).
  private sym = new Int32Array(256);
  private next = new Int32Array(256);
  private prev = new Int32Array(256);
  /** Min-heap of rank * 2^32 + position: lowest rank first, leftmost among equal ranks. It holds at most n - 1
   *  initial pairs plus one per merge, so 2n entries suffice. */
  private heap = new Float64Array(512);

  constructor(lib: LibTokenizer, merges: [string, string][], byteFallback: boolean) {
    this.lib = lib;
    this.vocab = lib.model.vocab;
    this.tokensToIds = lib.model.tokens_to_ids;
    this.base = this.vocab.length;
    const symbolOf = (s: string) => {
      let id = this.lookup(s);
      if (id < 0) {
        id = this.base + this.extras.length;
        this.extras.push(s);
        this.extraOf.set(s, id);
      }
      return id;
    };
    let slots = 1024;
    while (slots < merges.length * 2) slots *= 2;
    this.pairMask = slots - 1;
    this.pairLeft = new Int32Array(slots).fill(-1);
    this.pairRight = new Int32Array(slots);
    this.pairRank = new Int32Array(slots);
    this.pairMerged = new Int32Array(slots);
    for (let rank = 0; rank < merges.length; rank++) {
      const [a, b] = merges[rank];
      const left = symbolOf(a);
      const right = symbolOf(b);
      let slot = this.slotOf(left, right);
      while (
        this.pairLeft[slot] !== -1 &&
        !(this.pairLeft[slot] === left && this.pairRight[slot] === right)
      ) {
        slot = (slot + 1) & this.pairMask;
      }
      // A pair listed twice: the library's new Map(entries) keeps the last rank, so overwrite.
      this.pairLeft[slot] = left;
      this.pairRight[slot] = right;
      this.pairRank[slot] = rank;
      this.pairMerged[slot] = symbolOf(a + b);
    }
    for (let id = 0; id < this.vocab.length; id++) {
      const s = this.vocab[id];
      if (s !== undefined && s.length === 1 && this.tokensToIds.get(s) === id)
        this.charSymbol[s.charCodeAt(0)] = id;
    }
    for (const [s, id] of this.extraOf) if (s.length === 1) this.charSymbol[s.charCodeAt(0)] = id;
    this.byteIds = null;
    if (byteFallback) {
      this.byteIds = new Int32Array(256);
      for (let b = 0; b < 256; b++) {
        const token = byteTokenName(b);
        this.byteIds[b] = lib.model.tokens_to_ids.has(token) ? tokenStringToId(lib, token) : -1;
      }
    }
    const unk = lib.model.unk_token;
    this.unkId = null;
    if (unk != null) {
      this.unkId =
        lib.added_tokens_map.get(unk)?.id ??
        lib.model.tokens_to_ids.get(unk) ??
        lib.model.unk_token_id ??
        null;
    }
  }

  /** Symbol of a string: its vocabulary id when the vocabulary maps it back to this string, else an extra id. */
  private lookup(s: string): number {
    const id = this.tokensToIds.get(s);
    if (id !== undefined && this.vocab[id] === s) return id;
    return this.extraOf.get(s) ?? -1;
  }

  private symbolString(symbol: number): string {
    return symbol < this.base ? this.vocab[symbol] : this.extras[symbol - this.base];
  }

  private slotOf(left: number, right: number): number {
    return (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca6b)) & this.pairMask;
  }

  /** Slot of the merge (left, right), or -1 when the pair is not a merge (or a side is not a known symbol). */
  private findPair(left: number, right: number): number {
    if (left < 0 || right < 0) return -1;
    for (let slot = this.slotOf(left, right); ; slot = (slot + 1) & this.pairMask) {
      const l = this.pairLeft[slot];
      if (l === -1) return -1;
      if (l === left && this.pairRight[slot] === right) return slot;
    }
  }

  /** Appends the ids of text[start, end) (one pre-tokenized piece) to `out`. */
  encode(text: string, start: number, end: number, out: number[]): void {
    if (end - start > this.sym.length) {
      const size = 2 * (end - start);
      this.sym = new Int32Array(size);
      this.next = new Int32Array(size);
      this.prev = new Int32Array(size);
      this.heap = new Float64Array(2 * size);
    }
    // Initial symbols: code points; characters outside the symbol table get -1 (they never merge) and are kept
    // as strings for the byte fallback.
    const sym = this.sym;
    let unknown: Map<number, string> | null = null;
    let n = 0;
    for (let i = start; i < end; ) {
      const c = text.charCodeAt(i);
      let width = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) width = 2;
      }
      const s = width === 1 ? this.charSymbol[c] : this.lookup(text.slice(i, i + 2));
      if (s < 0) {
        unknown ??= new Map();
        unknown.set(n, text.slice(i, i + width));
      }
      sym[n++] = s;
      i += width;
    }
    if (n > 1) this.merge(n);
    for (let i = 0; i < n; i++) {
      const s = sym[i];
      if (s >= 0) this.appendSymbol(s, out);
      else if (s === -1) this.appendString((unknown as Map<number, string>).get(i) as string, out);
      // -2: merged into its left neighbour.
    }
  }

  /** Merges this.sym[0, n) in place; positions absorbed into their left neighbour become -2. */
  private merge(n: number): void {
    const { sym, next, prev, heap } = this;
    const pairRank = this.pairRank;
    const pairMerged = this.pairMerged;
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    let size = 0;
    const push = (key: number) => {
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p] <= key) break;
        heap[i] = heap[p];
        i = p;
      }
      heap[i] = key;
    };
    for (let i = 0; i + 1 < n; i++) {
      const slot = this.findPair(sym[i], sym[i + 1]);
      if (slot >= 0) push(pairRank[slot] * 4294967296 + i);
    }
    while (size > 0) {
      const top = heap[0];
      // Pop the minimum.
      const last = heap[--size];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;

      const pos = top % 4294967296;
      const rank = (top - pos) / 4294967296;
      // Stale entries: the position was absorbed, or its pair changed since it was pushed. The symbols at a
      // position and at its right neighbour only ever grow, so a current pair with the same rank is the same pair.
      if (sym[pos] === -2) continue;
      const j = next[pos];
      if (j >= n) continue;
      const slot = this.findPair(sym[pos], sym[j]);
      if (slot < 0 || pairRank[slot] !== rank) continue;
      sym[pos] = pairMerged[slot];
      sym[j] = -2;
      const after = next[j];
      next[pos] = after;
      if (after < n) prev[after] = pos;
      const left = prev[pos];
      if (left >= 0) {
        const s = this.findPair(sym[left], sym[pos]);
        if (s >= 0) push(pairRank[s] * 4294967296 + left);
      }
      if (after < n) {
        const s = this.findPair(sym[pos], sym[after]);
        if (s >= 0) push(pairRank[s] * 4294967296 + pos);
      }
    }
  }

  private appendSymbol(symbol: number, out: number[]): void {
    let ids = this.symbolIds[symbol];
    if (ids === undefined) {
      ids = [];
      this.appendString(this.symbolString(symbol), ids);
      this.symbolIds[symbol] = ids;
    }
    for (const id of ids) out.push(id);
  }

  /** A final token string: its id if in the vocabulary, else byte fallback, else unk, else nothing (as the library). */
  private appendString(token: string, out: number[]): void {
    const lib = this.lib;
    if (lib.model.tokens_to_ids.has(token)) {
      out.push(tokenStringToId(lib, token));
      return;
    }
    const byteIds = this.byteIds;
    if (byteIds !== null) {
      const bytes = this.encoder.encode(token);
      if (bytes.every((b) => byteIds[b] >= 0)) {
        for (const b of bytes) out.push(byteIds[b]);
        return;
      }
    }
    if (this.unkId !== null) out.push(this.unkId);
  }
}
