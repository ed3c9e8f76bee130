/// <reference lib="webworker" />
// A Bun worker of encodeCorpusParallel: loads the tokenizer folder once, encodes chunks of documents, and replies
// with all ids flattened into one transferable Int32Array plus per-document offsets.
import { loadTokenizer } from "./load.ts";
import type { Tokenizer } from "./types.ts";

export interface WorkerRequest {
  id: number;
  dir: string;
  /** The caller's tokenizer.json hash: a folder changed on disk since is an error, not silently other ids. */
  hash: string;
  texts: string[];
  parseSpecial: boolean;
}

export interface WorkerReply {
  id: number;
  ids?: Int32Array;
  offsets?: Int32Array;
  error?: string;
}

declare const self: Worker;

const loaded = new Map<string, Promise<Tokenizer>>();

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, dir, hash, texts, parseSpecial } = event.data;
  try {
    let tokenizer = loaded.get(dir);
    if (tokenizer === undefined) {
      tokenizer = loadTokenizer(dir);
      loaded.set(dir, tokenizer);
    }
    const loadedTokenizer = await tokenizer;
    if (loadedTokenizer.hash !== hash) {
      throw new Error(
        `${dir}/tokenizer.json changed on disk (hash ${loadedTokenizer.hash}, expected ${hash})`,
      );
    }
    const encoded = loadedTokenizer.encodeCorpus(texts, { parseSpecial });
    const offsets = new Int32Array(encoded.length + 1);
    for (let i = 0; i < encoded.length; i++) offsets[i + 1] = offsets[i] + encoded[i].length;
    const ids = new Int32Array(offsets[encoded.length]);
    for (let i = 0; i < encoded.length; i++) ids.set(encoded[i], offsets[i]);
    self.postMessage({ id, ids, offsets } satisfies WorkerReply, [ids.buffer, offsets.buffer]);
  } catch (error) {
    self.postMessage({ id, error: (error as Error).message } satisfies WorkerReply);
  }
};
