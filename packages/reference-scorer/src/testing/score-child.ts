/**
 * Child process of the kill tests: runs scoreCorpus with the fake tokenizer and scorer.
 * argv: JSON of { modelDir, data, outDir, seqLen, batchSize, shard?, lossDtype?, delayMs? }. RHO1_SCORE_KILL_AT picks
 * where it SIGKILLs itself.
 */
import { scoreCorpus } from "../score.ts";
import { fakeScorer, fakeTokenizer } from "./fakes.ts";

const { delayMs = 0, ...options } = JSON.parse(process.argv[2]);
const inner = fakeScorer();
// delayMs stretches each batch so that time-based kills land mid-run.
const scorer = {
  ...inner,
  score: (...a: Parameters<typeof inner.score>) => {
    Bun.sleepSync(delayMs);
    return inner.score(...a);
  },
};
const manifest = await scoreCorpus({ ...options, tokenizer: fakeTokenizer(), scorer, progress: null });
process.stdout.write(`${manifest.counts.sequences}\n`);
