/**
 * The harness runs each `math_equal` in a pebble ProcessPool with a 3 s timeout, a timeout counting as wrong.
 * Here each comparison runs in a Worker; a comparison that overruns terminates that worker (so an
 * infinitely looping item cannot hang an evaluation) and a fresh one takes over.
 */

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
    this.workerUrl = options.workerUrl ?? new URL("./grade-worker.ts", import.meta.url);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerUrl);
    worker.onmessage = (event: MessageEvent<{ id: number; correct?: boolean; error?: string }>) => {
      const { id, correct, error } = event.data;
      const p = this.pending.get(id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(id);
      // An exception inside math_equal is caught by the harness's own try blocks: it reads as False.
      p.resolve({ correct: error === undefined && correct === true, timedOut: false });
    };
    worker.onerror = (event) => {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(new Error(`grading worker failed: ${event.message}`));
      }
      this.kill();
    };
    this.worker = worker;
    return worker;
  }

  private kill(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  /** math_equal(pred, gold) under the time limit; calls are serialised (one item at a time, like one process). */
  mathEqual(pred: string | null, gold: string): Promise<PoolVerdict> {
    const run = () =>
      new Promise<PoolVerdict>((resolve, reject) => {
        const id = this.nextId++;
        const timer = setTimeout(() => {
          this.pending.delete(id);
          this.kill();
          this.restarts++;
          resolve({ correct: false, timedOut: true });
        }, this.timeoutMs);
        this.pending.set(id, { resolve, reject, timer });
        this.ensureWorker().postMessage({ id, pred, gold });
      });
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
