/**
 * The harness runs each `math_equal` in a pebble ProcessPool with a 3 s timeout, a timeout counting as wrong.
 * Here each comparison runs in a Worker; a comparison that overruns terminates that worker (so an
 * infinitely looping item cannot hang an evaluation) and a fresh one takes over. node:worker_threads, so the same
 * code runs under Bun and Node.
 */
import { Worker } from "node:worker_threads";

export const DEFAULT_TIMEOUT_MS = 3000;

export interface PoolVerdict {
  correct: boolean;
  timedOut: boolean;
}

interface Pending {
  resolve: (v: PoolVerdict) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface GradingPoolOptions {
  timeoutMs?: number;
  /** The worker script (tests substitute one that never answers). */
  workerUrl?: URL | string;
}

/** Serial math_equal worker with a per-item time limit. */
export class GradingPool {
  readonly timeoutMs: number;
  private readonly workerUrl: URL | string;
  private worker: Worker | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** How many workers were killed for overrunning. */
  restarts = 0;

  constructor(options: GradingPoolOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // The worker beside this module: grade-worker.ts in the sources, grade-worker.js once compiled (dist/).
    this.workerUrl =
      options.workerUrl ??
      new URL(`./grade-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
  }

  private ready: Promise<Worker> | null = null;

  /** Starts a worker and waits for its "ready" message, so module loading does not eat into an item's 3 s. */
  private ensureWorker(): Promise<Worker> {
    if (this.ready) return this.ready;
    const worker = new Worker(this.workerUrl);
    this.worker = worker;
    this.ready = new Promise<Worker>((resolveReady, rejectReady) => {
      worker.on("message", (data: { id?: number; ready?: boolean; correct?: boolean; error?: string }) => {
        const { id, ready, correct, error } = data;
        if (ready) {
          resolveReady(worker);
          return;
        }
        const p = id === undefined ? undefined : this.pending.get(id);
        if (!p || id === undefined) return;
        clearTimeout(p.timer);
        this.pending.delete(id);
        // An exception inside math_equal is caught by the harness's own try blocks: it reads as False.
        p.resolve({ correct: error === undefined && correct === true, timedOut: false });
      });
      worker.on("error", (cause: Error) => {
        const failure = new Error(`grading worker failed: ${cause.message}`);
        rejectReady(failure);
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          this.pending.delete(id);
          p.reject(failure);
        }
        this.kill();
      });
    });
    return this.ready;
  }

  private kill(): void {
    void this.worker?.terminate();
    this.worker = null;
    this.ready = null;
  }

  /** math_equal(pred, gold) under the time limit; calls are serialised (one item at a time, like one process). */
  mathEqual(pred: string | null, gold: string): Promise<PoolVerdict> {
    const run = async () => {
      const worker = await this.ensureWorker();
      return new Promise<PoolVerdict>((resolve, reject) => {
        const id = this.nextId++;
        const timer = setTimeout(() => {
          this.pending.delete(id);
          this.kill();
          this.restarts++;
          resolve({ correct: false, timedOut: true });
        }, this.timeoutMs);
        this.pending.set(id, { resolve, reject, timer });
        worker.postMessage({ id, pred, gold });
      });
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.kill();
  }
}
