import { BpeModel } from "./bpe.ts";
import { type LibAddedToken, type LibTokenizer, tokenStringToId } from "./library.ts";
import { HASH_START, hashStep, SegmentCache } from "./segment-cache.ts";
import { buildSplitTable, type SplitTable } from "./split-table.ts";
import { DictionarySplitter } from "./splitter.ts";

/** Segments longer than this are encoded but not cached (they rarely repeat and would bloat the cache). */
const MAX_CACHED_SEGMENT = 256;

/**
 * The library's encode_text (added-token splitting, normalizer, pre-tokenizer, model) re-implemented with a cached,
 * segmented model step. `parseSpecial` false leaves special added tokens out of the splitting, so a literal "<s>"
 * in the text stays text (like the Rust library's encode_special_tokens=true).
 */
export class CorpusEncoder {
  private readonly lib: LibTokenizer;
  private readonly table: SplitTable | null;
  /** Integer BPE equal to the library's model step; only when the split table exists (plain BPE). */
  private readonly bpe: BpeModel | null;
  private readonly cache = new SegmentCache();
  private readonly modes: Map<boolean, Mode> = new Map();

  constructor(lib: LibTokenizer) {
    this.lib = lib;
    this.table = buildSplitTable(lib);
    const model = lib.model as unknown as { merges: [string, string][]; byte_fallback?: boolean };
    this.bpe = this.table !== null ? new BpeModel(lib, model.merges, model.byte_fallback === true) : null;
  }

  /** True when words are cut into independently cached segments (the proven-safe fast path). */
  get segmented(): boolean {
    return this.table !== null;
  }

  encode(text: string, parseSpecial: boolean, out: number[] = []): number[] {
    const mode = this.mode(parseSpecial);
    const lib = this.lib;
    const sections = mode.unnormalized.split(text);
    stripAround(sections, mode.added);
    for (let i = 0; i < sections.length; i++) {
      let section = sections[i];
      if (section.length === 0) continue;
      const token = mode.added.get(section);
      if (token !== undefined) {
        out.push(token.id);
        continue;
      }
      if (lib.remove_space === true) section = section.trim().split(/\s+/).join(" ");
      if (lib.do_lowercase_and_remove_accent) section = section.toLowerCase().replace(/\p{M}/gu, "");
      if (lib.normalizer !== null) section = lib.normalizer(section);
      if (section.length === 0) continue;
      const subsections = mode.normalized.split(section);
      stripAround(subsections, mode.added);
      for (const sub of subsections) {
        if (sub.length === 0) continue;
        const subToken = mode.added.get(sub);
        if (subToken !== undefined) {
          out.push(subToken.id);
          continue;
        }
        const words = lib.pre_tokenizer !== null ? lib.pre_tokenizer(sub, { section_index: i }) : [sub];
        if (this.table === null) {
          // Unsafe to cut or cache (unknown tokens fuse across words): one model call per section, like the library.
          for (const t of lib.model(words)) out.push(tokenStringToId(lib, t));
        } else {
          for (const word of words) this.encodeWord(word, this.table, out);
        }
      }
    }
    return out;
  }

  /** Cuts a pre-tokenized word at boundaries no merge can cross and encodes each piece through the cache. */
  private encodeWord(word: string, table: SplitTable, out: number[]): void {
    const { endIndex, startIndex, pairs, nStart } = table;
    const n = word.length;
    if (n === 0) return;
    let start = 0;
    let c = word.charCodeAt(0);
    let h = hashStep(HASH_START, c);
    let e = endIndex[c];
    for (let i = 1; i < n; i++) {
      c = word.charCodeAt(i);
      // A cut between word[i-1] and word[i] is safe unless some merge joins a symbol ending in the one with a
      // symbol starting with the other (split-table.ts).
      if (e < 0 || startIndex[c] < 0 || pairs[e * nStart + startIndex[c]] === 0) {
        if (!this.cache.appendIds(word, start, i, h, out)) this.encodeMiss(word, start, i, h, out);
        start = i;
        h = HASH_START;
      }
      h = hashStep(h, c);
      e = endIndex[c];
    }
    if (!this.cache.appendIds(word, start, n, h, out)) this.encodeMiss(word, start, n, h, out);
  }

  /** A piece not in the cache: BPE on integer symbols (byte fallback, unk handling included), then cached. */
  private encodeMiss(word: string, start: number, end: number, h: number, out: number[]): void {
    const from = out.length;
    (this.bpe as BpeModel).encode(word, start, end, out);
    if (end - start <= MAX_CACHED_SEGMENT) this.cache.insert(word, start, end, h, out, from);
  }

  private mode(parseSpecial: boolean): Mode {
    let mode = this.modes.get(parseSpecial);
    if (mode === undefined) {
      mode = buildMode(this.lib, parseSpecial);
      this.modes.set(parseSpecial, mode);
    }
    return mode;
  }
}

interface Mode {
  added: Map<string, LibAddedToken>;
  unnormalized: DictionarySplitter;
  normalized: DictionarySplitter;
}

/** The added-token tables the library builds in its constructor, restricted to non-special tokens unless parseSpecial. */
function buildMode(lib: LibTokenizer, parseSpecial: boolean): Mode {
  const added = new Map<string, LibAddedToken>();
  const unnormalized: string[] = [];
  const normalized: string[] = [];
  for (const token of lib.added_tokens) {
    if (token.special && !parseSpecial) continue;
    added.set(token.content, token);
    if (token.normalized && lib.normalizer !== null) {
      const content = lib.normalizer(token.content);
      normalized.push(content);
      added.set(content, token);
    } else {
      unnormalized.push(token.content);
    }
  }
  return {
    added,
    unnormalized: new DictionarySplitter(unnormalized),
    normalized: new DictionarySplitter(normalized),
  };
}

/** The library's lstrip/rstrip handling around added tokens, in place. */
function stripAround(parts: string[], added: Map<string, LibAddedToken>): void {
  if (parts.length < 2) return;
  for (let i = 0; i < parts.length; i++) {
    const token = added.get(parts[i]);
    if (token === undefined) continue;
    if (token.lstrip && i > 0) parts[i - 1] = parts[i - 1].trimEnd();
    if (token.rstrip && i < parts.length - 1) parts[i + 1] = parts[i + 1].trimStart();
  }
}
