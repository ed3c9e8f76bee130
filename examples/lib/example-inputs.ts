/**
 * Inputs the per-stage examples share under runs/examples/, each made on first use, so every example runs as is
 * (in any order) on the embedded default: a small noisy parquet corpus, a briefly trained reference model, its scores.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { scoreCorpus, writeOwmParquet } from "@rho1/reference-scorer";
import { checkpointName, train } from "@rho1/train";
import { readCleanJsonl, textJsonl } from "./clean-text.ts";
import { buildNoisyCorpus } from "./noisy-corpus.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const BASE_MODEL = join(ROOT, "models/stories260K");
export const OUT = join(ROOT, "runs/examples");
export const CORPUS = join(OUT, "corpus/train.parquet");
export const CLEAN = join(OUT, "corpus/clean.jsonl");
export const REFERENCE_RUN = join(OUT, "reference");
export const REFERENCE_STEPS = 20;
export const REFERENCE = join(REFERENCE_RUN, checkpointName(REFERENCE_STEPS));
export const SCORES = join(OUT, "scores");
export const SEQ_LEN = 128;

/** 60 noisy OpenWebMath-schema rows + 200 clean documents (for the reference model). */
export async function ensureCorpus(): Promise<void> {
  if (existsSync(CORPUS) && existsSync(CLEAN)) return;
  const clean = readCleanJsonl(join(ROOT, "data/corpus/clean/gsm8k_train.sample.jsonl"), 400);
  const corpus = buildNoisyCorpus({
    clean,
    seed: 7,
    junkFraction: 0.5,
    docs: 60,
    heldOutDocs: 0,
    refDocs: 200,
  });
  mkdirSync(join(OUT, "corpus"), { recursive: true });
  await writeOwmParquet(corpus.train, CORPUS);
  writeFileSync(CLEAN, textJsonl(corpus.refClean));
}

/** The base model trained for a few steps on clean text (examples/04-train-reference.ts does this). */
export async function ensureReference(): Promise<void> {
  if (existsSync(REFERENCE)) return;
  await ensureCorpus();
  rmSync(REFERENCE_RUN, { recursive: true, force: true });
  await train({
    modelDir: BASE_MODEL,
    data: [CLEAN],
    outDir: REFERENCE_RUN,
    seqLen: SEQ_LEN,
    batchSize: 8,
    steps: REFERENCE_STEPS,
    lr: 2e-3,
  });
}

/** The corpus scored with the reference model (examples/03-score.ts does this). */
export async function ensureScores(): Promise<void> {
  if (existsSync(join(SCORES, "manifest.json"))) return;
  await ensureReference();
  await scoreCorpus({ modelDir: REFERENCE, data: [CORPUS], outDir: SCORES, seqLen: SEQ_LEN, batchSize: 16 });
}
