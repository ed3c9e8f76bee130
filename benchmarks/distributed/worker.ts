/**
 * One rank of benchmarks/distributed/run.ts: SLM training steps (ratio 0.6, batch scope) of the benchmark Llama on
 * this rank's micro-batch, with the communicator's collectives timed. Prints one JSON line per rank.
 * argv: JSON of { batch, seq, steps }.
 */
import { type Communicator, communicatorFromEnvironment } from "@rho1/distributed";
import { AdamW, batchGradients, clipGradNormAsync } from "@rho1/train";
import { CausalLM, mulberry32, parseConfig } from "@rho1/transformer";
import { BENCH_ADAMW, BENCH_LLAMA_CONFIG, setupOurs } from "../lib/anchor.ts";

const { batch: B, seq: T, steps } = JSON.parse(process.argv[2] as string);
const backend = await setupOurs();
const inner = await communicatorFromEnvironment();
let collectiveSeconds = 0;
let reducedFloats = 0;
const timed =
  <A extends unknown[], R>(fn: (...a: A) => R) =>
  (...a: A): R => {
    const t0 = performance.now();
    const r = fn(...a);
    collectiveSeconds += (performance.now() - t0) / 1000;
    return r;
  };
// The same group, its collectives timed (waiting for the slower rank included: that is what a step pays).
const comm: Communicator = {
  ...inner,
  allReduceSum: timed((v: Float32Array | Float64Array) => {
    if (v instanceof Float32Array) reducedFloats = v.length;
    inner.allReduceSum(v);
  }),
  allGather: timed((b: Float32Array) => inner.allGather(b)),
};
const config = parseConfig(BENCH_LLAMA_CONFIG, "bench-config");
const model = CausalLM.random(config, 1234); // the same weights on every rank
const optimizer = new AdamW(model.variables, { ...BENCH_ADAMW });
const rand = mulberry32(1 + comm.rank); // each rank its own tokens
const stepSeconds: number[] = [];
const shareSeconds: number[] = [];
for (let s = 0; s <= steps; s++) {
  const ids = Int32Array.from({ length: B * T }, () => 1 + Math.floor(rand() * (config.vocabSize - 1)));
  const refLoss = Float32Array.from({ length: B * (T - 1) }, () => rand() * 10);
  comm.barrier(); // every rank starts the step together: step time is the slowest rank's
  collectiveSeconds = 0;
  const t0 = performance.now();
  const r = await batchGradients(model, [{ batch: B, time: T, ids, refLoss }], {
    ratio: 0.6,
    scope: "batch",
    communicator: comm,
  });
  const { grads } = await clipGradNormAsync(r.grads, 1.0);
  optimizer.step(grads);
  for (const g of grads.values()) g.dispose();
  if (s > 0) {
    // step 0 is warm-up
    stepSeconds.push((performance.now() - t0) / 1000);
    shareSeconds.push(collectiveSeconds);
  }
}
// The bare all-reduce of one step's gradient buffer, every rank ready: what the transport itself costs.
const buffer = new Float32Array(reducedFloats);
const bareSeconds: number[] = [];
for (let i = 0; i < 4 && comm.size > 1; i++) {
  inner.barrier();
  const t0 = performance.now();
  inner.allReduceSum(buffer);
  bareSeconds.push((performance.now() - t0) / 1000);
}
process.stdout.write(
  `${JSON.stringify({ rank: comm.rank, size: comm.size, backend, stepSeconds, collectiveSeconds: shareSeconds, reducedFloats, bareSeconds: bareSeconds.slice(1) })}\n`,
);
optimizer.dispose();
model.dispose();
comm.finalize();
