// A worker thread of encodeCorpusParallel: loads the tokenizer folder once, encodes chunks of documents, and replies
// with all ids flattened into one transferable Int32Array plus per-document offsets.
import { parentPort } from "node:worker_threads";
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

const loaded = new Map<string, Promise<HfFolderTokenizer>>();

const port = parentPort;
if (port === null) throw new Error("tokenizer/worker runs only as a worker thread");

port.on("message", async (request: WorkerRequest) => {
  const { id, dir, hash, texts, parseSpecial } = request;
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
    port.postMessage({ id, ids, offsets } satisfies WorkerReply, [
      ids.buffer as ArrayBuffer,
      offsets.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies WorkerReply);
  }
});
