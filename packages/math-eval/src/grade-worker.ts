/** Worker side of GradingPool: says {ready} once loaded, then answers {id, pred, gold} with {id, correct} or {id, error}. */
import { mathEqual } from "./grader.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; pred: string | null; gold: string }>) => {
  const { id, pred, gold } = event.data;
  try {
    self.postMessage({ id, correct: mathEqual(pred, gold) });
  } catch (error) {
    self.postMessage({ id, error: String(error) });
  }
};

self.postMessage({ ready: true });
