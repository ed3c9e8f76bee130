/**
 * One process (or one MPI rank) of distributed.test.ts: train() with the communicator of its environment, then
 * one JSON file per rank with every step's metrics and this rank's selection masks.
 * argv: JSON of { options: TrainOptions fields, report: path prefix, crashAtStep?: number }.
 */
import { writeFileSync } from "node:fs";
import { communicatorFromEnvironment } from "@rho1/distributed";
import type { StepMetrics } from "../report.ts";
import { train } from "../train.ts";

const { options, report, crashAtStep } = JSON.parse(process.argv[2] as string);
const comm = await communicatorFromEnvironment();
const steps: { metrics: StepMetrics; selected: number[][] }[] = [];
let masks: number[][] = [];
const write = () =>
  writeFileSync(
    `${report}.rank${comm.rank}.json`,
    JSON.stringify({ rank: comm.rank, size: comm.size, steps }),
  );
await train({
  ...options,
  progress: null,
  communicator: comm,
  onBatch: (_step, { selected }) => {
    masks = selected.map((s) => Array.from(s));
  },
  onStep: (metrics) => {
    if (metrics.step === crashAtStep) {
      write();
      throw new Error(`simulated crash at step ${crashAtStep}`);
    }
    steps.push({ metrics, selected: masks });
  },
});
write();
comm.finalize();
