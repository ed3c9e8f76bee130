/**
 * Deterministic stand-ins for the tokenizer and the model, so the pipeline (reading, packing, storing,
 * resuming, sharding) is tested fast and independently of @rho1/tokenizer and @rho1/transformer.
 */
import type { TokenScorer } from "../model.ts";
import type { CorpusTokenizer } from "../pack.ts";

/** One token per UTF-8 byte: id 3 + byte % 253 (0 unk, 1 BOS, 2 EOS); vocabulary 256. */
export function fakeTokenizer(overrides: Partial<CorpusTokenizer> = {}): CorpusTokenizer {
  const encoder = new TextEncoder();
  return {
    vocabSize: 256,
    bosId: 1,
    eosId: 2,
    padId: null,
    addBos: true,
    hash: "fake-tokenizer",
    encodeCorpus: (texts) => texts.map((t) => Array.from(encoder.encode(t), (b) => 3 + (b % 253))),
    ...overrides,
  };
}

/** The fake model's loss of predicting ids[t+1] after ids[0..t]: a hash of the prefix and the target. */
export function fakeLoss(row: ArrayLike<number>, t: number): number {
  let h = 7;
  for (let i = 0; i <= t; i++) h = (h * 31 + row[i]) % 9973;
  return ((h + 13 * row[t + 1]) % 1000) / 97;
}

export function fakeScorer(vocabSize: number | null = 512): TokenScorer & { calls: number } {
  const scorer = {
    vocabSize,
    calls: 0,
    score(ids: Int32Array, lengths: Uint32Array, batch: number, seqLen: number): Float32Array {
      scorer.calls++;
      const out = new Float32Array(batch * (seqLen - 1));
      for (let b = 0; b < batch; b++) {
        const row = ids.subarray(b * seqLen, (b + 1) * seqLen);
        for (let t = 0; t + 1 < lengths[b]; t++) out[b * (seqLen - 1) + t] = fakeLoss(row, t);
      }
      return out;
    },
  };
  return scorer;
}
