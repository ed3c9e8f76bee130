/** Worker side of GradingPool: says {ready} once loaded, then answers {id, pred, gold} with {id, correct} or {id, error}. */
import { parentPort } from "node:worker_threads";
import { mathEqual } from "./grader.ts";

const port = parentPort;
if (!port) throw new Error("grade-worker runs inside a worker thread (GradingPool)");

port.on("message", ({ id, pred, gold }: { id: number; pred: string | null; gold: string }) => {
  try {
    port.postMessage({ id, correct: mathEqual(pred, gold) });
  } catch (error) {
    port.postMessage({ id, error: String(error) });
  }
});

port.postMessage({ ready: true });
