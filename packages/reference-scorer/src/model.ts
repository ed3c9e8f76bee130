/**
 * The reference model side: a content hash of the model folder, and a TokenScorer that runs
 * @rho1/transformer's CausalLM.tokenLosses. Both heavy packages are imported lazily so that `rho1 score
 * merge`, the store reader and tests with an injected scorer never load TensorFlow.js.
 */

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ScoreError } from "./errors.ts";
import type { CorpusTokenizer } from "./pack.ts";

/** Scores packed rows. Implemented by the model; tests inject a deterministic stand-in. */
export interface TokenScorer {
  /** The model's vocabulary size (token ids must be below it); null if unknown. */
  readonly vocabSize: number | null;
  /**
   * ids: [batch * seqLen] row-major; lengths: real tokens per row (mask = t < length).
   * Returns ce [batch * (seqLen - 1)]: CE of predicting ids[b, t+1] from the prefix, 0 where not valid.
   */
  score(
    ids: Int32Array,
    lengths: Uint32Array,
    batch: number,
    seqLen: number,
  ): Promise<Float32Array> | Float32Array;
  dispose?(): void;
}

/**
 * sha256 over the model folder's config.json and weight files (names and full bytes, sorted by name), so
 * that a store records exactly which reference model scored it. Streams: a 14 GB checkpoint hashes in ~10 s.
 */
export async function hashModelDir(dir: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dir))
      .filter((n) => n === "config.json" || /\.safetensors(\.index\.json)?$/.test(n))
      .sort();
  } catch {
    throw new ScoreError("missing_model", "model folder not found", { file: dir });
  }
  if (!names.includes("config.json"))
    throw new ScoreError("missing_model", "model folder has no config.json", { file: dir });
  const hasher = createHash("sha256");
  for (const name of names) {
    hasher.update(`${name}\n`);
    for await (const chunk of createReadStream(join(dir, name)) as AsyncIterable<Buffer>)
      hasher.update(chunk);
  }
  return hasher.digest("hex");
}

/** Loads the tokenizer of a model folder through @rho1/tokenizer. */
export async function loadCorpusTokenizer(dir: string): Promise<CorpusTokenizer> {
  const { loadTokenizer } = await import("@rho1/tokenizer");
  return loadTokenizer(dir);
}

/**
 * Loads the reference model and wraps CausalLM.tokenLosses as a TokenScorer, on whatever TensorFlow.js backend the
 * application has set up (the CLI: `setupBackend()` with @rho1/tfjs-native's kernels).
 */
export async function loadModelScorer(dir: string): Promise<TokenScorer> {
  const { CausalLM, tf } = await import("@rho1/transformer");
  const model = await CausalLM.load(dir);
  return {
    vocabSize: model.config.vocabSize,
    async score(ids, lengths, batch, seqLen) {
      const mask = new Int32Array(batch * seqLen);
      for (let b = 0; b < batch; b++) mask.fill(1, b * seqLen, b * seqLen + lengths[b]);
      const ce = tf.tidy(() => {
        const idsT = tf.tensor2d(ids, [batch, seqLen], "int32");
        const maskT = tf.tensor2d(mask, [batch, seqLen], "int32");
        return model.tokenLosses(idsT, maskT).ce;
      });
      try {
        return (await ce.data()) as Float32Array;
      } finally {
        ce.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}
