/**
 * Longest-match splitting on a dictionary of added tokens: a copy of @huggingface/tokenizers' DictionarySplitter
 * (which it does not export), so that the corpus path cuts text exactly where the library's encode() does.
 */
interface TrieNode {
  children: Map<string, TrieNode>;
  end: string | null;
}

export class DictionarySplitter {
  private readonly root: TrieNode = { children: new Map(), end: null };
  private readonly empty: boolean;
  /** 1 for UTF-16 code units that start some word: the scan skips every other position without a trie lookup. */
  private readonly first = new Uint8Array(0x10000);

  constructor(words: Iterable<string>) {
    let count = 0;
    for (const word of words) {
      if (word.length === 0) continue;
      this.first[word.charCodeAt(0)] = 1;
      let node = this.root;
      for (let i = 0; i < word.length; ++i) {
        let next = node.children.get(word[i]);
        if (next === undefined) {
          next = { children: new Map(), end: null };
          node.children.set(word[i], next);
        }
        node = next;
      }
      node.end = word;
      count++;
    }
    this.empty = count === 0;
  }

  split(text: string): string[] {
    if (this.empty) return text.length > 0 ? [text] : [];
    const result: string[] = [];
    const n = text.length;
    let start = 0;
    let i = 0;
    const first = this.first;
    while (i < n) {
      if (first[text.charCodeAt(i)] === 0) {
        ++i;
        continue;
      }
      let node: TrieNode | undefined = this.root;
      let match: string | null = null;
      let j = i;
      while (j < n) {
        node = node.children.get(text[j]);
        if (node === undefined) break;
        if (node.end) match = node.end;
        ++j;
      }
      if (match) {
        if (i > start) result.push(text.slice(start, i));
        result.push(match);
        i += match.length;
        start = i;
      } else {
        ++i;
      }
    }
    if (start < n) result.push(text.slice(start));
    return result;
  }
}
