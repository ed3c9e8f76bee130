/** Score a parquet corpus with a reference model (what `rho1 score` does) and read the scores back. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ScoreStore, scoreCorpus } from "@rho1/reference-scorer";
import { fastBackend } from "./lib/backend.ts";
import { CORPUS, ensureReference, OUT, REFERENCE, SEQ_LEN } from "./lib/example-inputs.ts";

await fastBackend();
await ensureReference(); // runs/examples/reference: the base model trained briefly on clean text (04-train-reference.ts)
const outDir = join(OUT, "scores-03");
rmSync(outDir, { recursive: true, force: true });

// Tokenize, pack into rows of SEQ_LEN, and store each token's reference loss. Resumable: rerun to continue.
const manifest = await scoreCorpus({
  modelDir: REFERENCE,
  data: [CORPUS],
  outDir,
  seqLen: SEQ_LEN,
  batchSize: 16,
});
console.log(
  `${manifest.counts.sequences} sequences, ${manifest.counts.validTokens} scored tokens → ${outDir}`,
);

// Random access to any sequence: ids, reference loss of predicting ids[t+1], validity.
const store = ScoreStore.open(outDir);
const { ids, refLoss, valid } = store.sequence(0);
let sum = 0;
let n = 0;
for (let t = 0; t < valid.length; t++) {
  sum += valid[t] * refLoss[t];
  n += valid[t];
}
console.log(
  `sequence 0: ${ids.length} ids, mean reference loss ${(sum / n).toFixed(3)} nats over ${n} targets`,
);
console.log("first losses:", Array.from(refLoss.subarray(0, 8), (x) => x.toFixed(2)).join(" "));
