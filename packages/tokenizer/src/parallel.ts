import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { TokenizerError } from "./errors.ts";
import type { ParallelCorpusOptions, Tokenizer } from "./types.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** Below this many characters a corpus is encoded on the calling thread (starting workers costs more). */
const MIN_PARALLEL_CHARS = 1 << 20;
/** Chunks per worker: several, so a worker that draws long documents does not hold the others up. */
const CHUNKS_PER_WORKER = 4;

interface Pool {
  workers: Worker[];
  busy: number;
  /** Rejecters of requests in flight, so that stopping the pool fails them instead of leaving them pending. */
  pending: Set<(error: Error) => void>;
}

/** One pool per tokenizer (folder + hash) and size, kept for later calls; workers are unref'd while idle. */
const pools = new Map<string, Pool>();

function getPool(key: string, size: number): Pool {
  let pool = pools.get(key);
  if (pool === undefined) {
    const workers: Worker[] = [];
    for (let i = 0; i < size; i++) {
      // worker.ts beside the sources, worker.js once compiled (dist/).
      const file = `./worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`;
      const worker = new Worker(new URL(file, import.meta.url));
      worker.unref();
      workers.push(worker);
    }
    pool = { workers, busy: 0, pending: new Set() };
    pools.set(key, pool);
  }
  return pool;
}

let nextRequestId = 0;

/** Terminates a pool after a failure; requests still in flight (other calls sharing it) are rejected. */
function stopPool(key: string, pool: Pool, cause: unknown): void {
  if (pools.get(key) === pool) pools.delete(key);
  for (const w of pool.workers) w.terminate();
  const error = new TokenizerError(`tokenizer worker pool stopped: ${(cause as Error)?.message ?? cause}`);
  for (const reject of [...pool.pending]) reject(error);
}

/** Runs one request on a worker and resolves with its reply (matched by id: calls may share a pool). */
function runOn(pool: Pool, worker: Worker, request: WorkerRequest): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onMessage = (reply: WorkerReply) => {
      if (reply.id !== request.id) return;
      cleanup();
      if (reply.error !== undefined) reject(new TokenizerError(reply.error));
      else resolve(reply);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new TokenizerError(`tokenizer worker failed: ${error.message}`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new TokenizerError(`tokenizer worker exited (code ${code})`));
    };
    const cleanup = () => {
      pool.pending.delete(fail);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    pool.pending.add(fail);
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage(request);
  });
}

/** Cuts [0, n) into about `count` contiguous ranges of similar character totals (`total`: all texts' length). */
function chunkRanges(texts: string[], total: number, count: number): [number, number][] {
  const target = total / count;
  const ranges: [number, number][] = [];
  let start = 0;
  let acc = 0;
  for (let i = 0; i < texts.length; i++) {
    acc += texts[i].length;
    if (acc >= target && ranges.length < count - 1) {
      ranges.push([start, i + 1]);
      start = i + 1;
      acc = 0;
    }
  }
  if (start < texts.length) ranges.push([start, texts.length]);
  return ranges;
}

/** encodeCorpus over worker threads: same ids, same order. */
export async function encodeParallel(
  tokenizer: Tokenizer,
  texts: string[],
  opts: ParallelCorpusOptions,
): Promise<number[][]> {
  const parseSpecial = opts.parseSpecial ?? false;
  const size = opts.workers ?? availableParallelism();
  if (!Number.isInteger(size) || size < 1) {
    throw new TokenizerError(`encodeCorpusParallel: workers must be a positive integer, found ${size}`);
  }
  let chars = 0;
  for (const t of texts) {
    if (typeof t !== "string") throw new TokenizerError(`encodeCorpusParallel: documents must be strings`);
    chars += t.length;
  }
  if (size === 1 || chars < MIN_PARALLEL_CHARS || texts.length < 2) {
    return tokenizer.encodeCorpus(texts, { parseSpecial });
  }
  const key = `${tokenizer.dir}\u0000${tokenizer.hash}\u0000${size}`;
  const pool = getPool(key, size);
  const ranges = chunkRanges(texts, chars, size * CHUNKS_PER_WORKER);
  const out: number[][] = new Array(texts.length);
  let next = 0;
  for (const w of pool.workers) w.ref();
  pool.busy++;
  try {
    await Promise.all(
      pool.workers.map(async (worker) => {
        while (next < ranges.length) {
          const [start, end] = ranges[next++];
          const reply = await runOn(pool, worker, {
            id: nextRequestId++,
            dir: tokenizer.dir,
            hash: tokenizer.hash,
            texts: texts.slice(start, end),
            parseSpecial,
          });
          const { ids, offsets } = reply as { ids: Int32Array; offsets: Int32Array };
          // A plain loop: several times faster than Array.from(subarray) under Bun.
          for (let d = 0; d < end - start; d++) {
            const from = offsets[d];
            const doc: number[] = new Array(offsets[d + 1] - from);
            for (let k = 0; k < doc.length; k++) doc[k] = ids[from + k];
            out[start + d] = doc;
          }
        }
      }),
    );
  } catch (error) {
    // A failed or crashed worker: drop the whole pool so that the next call starts clean.
    stopPool(key, pool, error);
    throw error;
  } finally {
    pool.busy--;
    if (pool.busy === 0) for (const w of pool.workers) w.unref();
  }
  return out;
}
