import { ScoreStore, scoreCorpus } from "@rho1/reference-scorer";

const manifest = await scoreCorpus({
  modelDir: "models/stories260K", // reference model (HF folder with its tokenizer)
  data: ["data/corpus/owm-sample.parquet"], // parquet (OpenWebMath schema), .jsonl {"text": ...}, or directories
  outDir: "/tmp/owm-scores",
  seqLen: 128,
  batchSize: 8,
});
console.log(manifest.counts, manifest.stats.meanLoss);

const store = ScoreStore.open("/tmp/owm-scores");
const { ids, refLoss, valid } = store.sequence(0); // Int32Array [seqLen], Float32Array [seqLen-1] x2
console.log(store.numSequences, ids.slice(0, 8), refLoss.slice(0, 8), valid.slice(0, 8));
