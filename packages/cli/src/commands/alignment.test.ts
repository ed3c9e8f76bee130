/**
 * End to end: the reference losses `rho1 score` stores line up, token for token, with the losses `rho1 train` computes.
 * Scoring model M and training from M itself, at step 0 (before any update) each valid token's training loss must
 * equal its stored reference loss and the excess loss must be 0. A store shifted by one position must break that.
 */
import { expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeUnit } from "@rho1/reference-scorer";
import { type MicroBatch, train } from "@rho1/train";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const work = tempDir("rho1-alignment-");
const corpus = join(work, "corpus.jsonl");
writeFileSync(
  corpus,
  [
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
    "Tom had 3 apples. He gave 1 apple to his friend, so he had 2 apples left.",
    "One day, a big dog saw a red ball. The dog ran to the ball and played with it all day.",
    "The sun was hot. Sue and her mom went to the beach to swim in the cool blue water.",
    "Ben wanted a cake. His dad made a big cake with 4 candles, and Ben was very happy.",
  ]
    .map((text) => JSON.stringify({ text }))
    .join("\n"),
);

/** The largest |training CE − stored reference CE| over valid tokens, how many there are, and the mean excess. */
function alignment(micro: MicroBatch[], tokenLoss: Float32Array[]) {
  let maxDiff = 0;
  let valid = 0;
  let excess = 0;
  micro.forEach((mb, i) => {
    const ce = tokenLoss[i] as Float32Array;
    const ref = mb.refLoss as Float32Array;
    const ok = mb.valid as Float32Array;
    for (let j = 0; j < ce.length; j++) {
      if (ok[j] === 0) continue;
      valid++;
      const d = (ce[j] as number) - (ref[j] as number);
      excess += d;
      maxDiff = Math.max(maxDiff, Math.abs(d));
    }
  });
  return { maxDiff, valid, meanExcess: excess / valid };
}

/** Step 0 of `rho1 train` (the library the command runs) from M with --ref-scores `store`. */
async function stepZero(store: string, out: string, verifyScores = true) {
  let seen: ReturnType<typeof alignment> | undefined;
  await train({
    modelDir: STORIES,
    data: [corpus],
    refScores: store,
    selectRatio: 0.6,
    batchSize: 4,
    steps: 1,
    lr: 1e-3,
    outDir: join(work, out),
    progress: null,
    verifyScores,
    onBatch: (step, { micro, tokenLoss }) => {
      if (step === 0) seen = alignment(micro, tokenLoss);
    },
  });
  return seen as ReturnType<typeof alignment>;
}

test("stored reference losses equal the trainer's own token losses at step 0; a one-position shift is caught", async () => {
  const store = join(work, "store");
  const score = cliCommand("score")("--model", STORIES, "--data", corpus, "--out", store, "--seq-len", "32");
  expect(score.code).toBe(0);

  const aligned = await stepZero(store, "run");
  expect(aligned.valid).toBeGreaterThan(100);
  expect(aligned.maxDiff).toBeLessThan(1e-4);
  expect(Math.abs(aligned.meanExcess)).toBeLessThan(1e-5);

  // The command itself logs the same: excess loss 0 at the first step.
  const cli = cliCommand("train")(
    ...["--model", STORIES, "--data", corpus, "--ref-scores", store, "--out", join(work, "cli")],
    ...["--batch-size", "4", "--steps", "1", "--lr", "1e-3"],
  );
  expect(cli.code).toBe(0);
  const first = JSON.parse(readFileSync(join(work, "cli", "metrics.jsonl"), "utf8").split("\n")[0] as string);
  expect(Math.abs(first.excess_loss)).toBeLessThan(1e-5);

  // The same store with every row's reference losses moved one position left (loss[t] <- loss[t + 1]).
  const shifted = join(work, "shifted");
  cpSync(store, shifted, { recursive: true });
  const units = readdirSync(join(shifted, "units"));
  expect(units.length).toBeGreaterThan(0);
  for (const name of units) {
    const path = join(shifted, "units", name);
    const bytes = new Uint8Array(readFileSync(path));
    const unit = decodeUnit(bytes, path);
    const L = unit.layout.seqLen - 1;
    for (let row = 0; row < unit.layout.sequences; row++)
      unit.loss.copyWithin(row * L, row * L + 1, (row + 1) * L);
    writeFileSync(path, bytes);
  }
  // Edited in place, the store no longer matches its manifest's checksums: training refuses it by default...
  await expect(stepZero(shifted, "run-refused")).rejects.toThrow(/sha256|checksum/);
  // ...and with verification off, the alignment check itself catches the shift.
  const off = await stepZero(shifted, "run-shifted", false);
  expect(off.valid).toBe(aligned.valid);
  expect(off.maxDiff).toBeGreaterThan(1); // the check above would fail on this store
}, 180_000);
