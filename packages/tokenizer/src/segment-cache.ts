/**
 * A hash table from word pieces (UTF-16 ranges of a longer string) to their ids, looked up without slicing the
 * string: the caller hashes the piece while scanning it (FNV-1a over code units, see `hashStep`), keys are kept in a
 * Uint16Array pool and compared code unit by code unit, ids in an Int32Array pool. This replaces a
 * Map<string, number[]> whose slice + string hash per piece dominated the corpus path.
 */
export const HASH_START = 0x811c9dc5 | 0;
export const hashStep = (h: number, c: number): number => Math.imul(h ^ c, 16777619);

export class SegmentCache {
  // Assigned by allocateSlots (from the constructor, clear and grow).
  private mask!: number;
  private slotHash!: Int32Array;
  /** Key offset + 1 in `keys` (0 marks an empty slot). */
  private slotKey!: Int32Array;
  private slotLength!: Int32Array;
  private slotIds!: Int32Array;
  private slotCount!: Int32Array;
  private keys: Uint16Array;
  private keysUsed = 0;
  private ids: Int32Array;
  private idsUsed = 0;
  private size = 0;

  constructor(
    private readonly initialSlots = 1 << 16,
    /** Entries at which the table is emptied (bounded memory on endless corpora). */
    private readonly maxEntries = 1 << 21,
    /** Key code units (and ids) at which the table is emptied: at most 2 * 32 MiB of pools. */
    private readonly maxPool = 1 << 25,
  ) {
    this.allocateSlots(initialSlots);
    this.keys = new Uint16Array(initialSlots * 4);
    this.ids = new Int32Array(initialSlots * 2);
  }

  /** Appends the cached ids of text[start, end) (hash `h`) to `out`; false when the piece is not cached. */
  appendIds(text: string, start: number, end: number, h: number, out: number[]): boolean {
    const length = end - start;
    const mask = this.mask;
    const keys = this.keys;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const key = this.slotKey[slot];
      if (key === 0) return false;
      if (this.slotHash[slot] !== h || this.slotLength[slot] !== length) continue;
      const base = key - 1;
      let k = 0;
      while (k < length && keys[base + k] === text.charCodeAt(start + k)) k++;
      if (k < length) continue;
      const ids = this.ids;
      const from = this.slotIds[slot];
      const to = from + this.slotCount[slot];
      for (let j = from; j < to; j++) out.push(ids[j]);
      return true;
    }
  }

  /** Caches ids[from, ids.length) as the ids of text[start, end) (hash `h`, not already present). */
  insert(text: string, start: number, end: number, h: number, ids: number[], from: number): void {
    const count = ids.length - from;
    if (this.size >= this.maxEntries || this.keysUsed >= this.maxPool || this.idsUsed >= this.maxPool)
      this.clear();
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const length = end - start;
    if (this.keysUsed + length > this.keys.length) this.keys = growArray(this.keys, this.keysUsed + length);
    if (this.idsUsed + count > this.ids.length) this.ids = growArray(this.ids, this.idsUsed + count);
    const keyOffset = this.keysUsed;
    for (let k = 0; k < length; k++) this.keys[keyOffset + k] = text.charCodeAt(start + k);
    this.keysUsed += length;
    const idOffset = this.idsUsed;
    for (let j = 0; j < count; j++) this.ids[idOffset + j] = ids[from + j];
    this.idsUsed += count;
    this.place(h, keyOffset + 1, length, idOffset, count);
    this.size++;
  }

  clear(): void {
    this.allocateSlots(this.initialSlots);
    this.keysUsed = 0;
    this.idsUsed = 0;
    this.size = 0;
  }

  /** Fresh, empty slot arrays of `slots` entries (a power of two). */
  private allocateSlots(slots: number): void {
    this.mask = slots - 1;
    this.slotHash = new Int32Array(slots);
    this.slotKey = new Int32Array(slots);
    this.slotLength = new Int32Array(slots);
    this.slotIds = new Int32Array(slots);
    this.slotCount = new Int32Array(slots);
  }

  private place(h: number, key: number, length: number, idOffset: number, count: number): void {
    let slot = h & this.mask;
    while (this.slotKey[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slotHash[slot] = h;
    this.slotKey[slot] = key;
    this.slotLength[slot] = length;
    this.slotIds[slot] = idOffset;
    this.slotCount[slot] = count;
  }

  private grow(): void {
    const old = {
      hash: this.slotHash,
      key: this.slotKey,
      length: this.slotLength,
      ids: this.slotIds,
      count: this.slotCount,
    };
    this.allocateSlots((this.mask + 1) * 2);
    for (let s = 0; s < old.key.length; s++) {
      if (old.key[s] !== 0) this.place(old.hash[s], old.key[s], old.length[s], old.ids[s], old.count[s]);
    }
  }
}

function growArray<T extends Uint16Array | Int32Array>(array: T, needed: number): T {
  let size = array.length * 2;
  while (size < needed) size *= 2;
  const grown = new (array.constructor as new (n: number) => T)(size);
  grown.set(array);
  return grown;
}
