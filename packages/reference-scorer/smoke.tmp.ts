import { ScoreStore, scoreCorpus } from "@rho1/reference-scorer";

const t0 = performance.now();
const m = await scoreCorpus({
  modelDir: "models/stories260K",
  data: ["/tmp/rs/t-ZSTD.parquet"],
  outDir: "/tmp/rs/out1",
  seqLen: 256,
  batchSize: 8,
});
console.log((performance.now() - t0) / 1000, m.counts, m.stats.meanLoss);
const s = ScoreStore.open("/tmp/rs/out1");
const q = s.sequence(3);
console.log(q.ids.slice(0, 10), q.refLoss.slice(0, 5), q.length);
