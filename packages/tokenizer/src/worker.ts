/// <reference lib="webworker" />
// A Bun worker of encodeCorpusParallel: loads the tokenizer folder once, encodes chunks of documents, and replies
// with all ids flattened into one transferable Int32Array plus per-document offsets.
import { loadTokenizer } from "./load.ts";
import type { HfFolderTokenizer } from "./tokenizer.ts";

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

const loaded = new Map<string, Promise<HfFolderTokenizer>>();

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, dir, hash, texts, parseSpecial } = event.data;
  try {
    let tokenizer = loaded.get(dir);
    if (tokenizer === undefined) {
      tokenizer = loadTokenizer(dir) as Promise<HfFolderTokenizer>;
      loaded.set(dir, tokenizer);
    }
    const loadedTokenizer = await tokenizer;
    if (loadedTokenizer.hash !== hash) {
      throw new Error(
        `${dir}/tokenizer.json changed on disk (hash ${loadedTokenizer.hash}, expected ${hash})`,
      );
    }
    const { ids, offsets } = loadedTokenizer.encodeCorpusFlat(texts, { parseSpecial });
    self.postMessage({ id, ids, offsets } satisfies WorkerReply, [ids.buffer, offsets.buffer]);
  } catch (error) {
    self.postMessage({ id, error: (error as Error).message } satisfies WorkerReply);
  }
};
