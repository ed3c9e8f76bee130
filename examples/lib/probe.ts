/**
 * The experiment's probe: noisy rows never trained on, cut into rows of seqLen tokens ([BOS] doc [EOS], one document
 * per stream, the last row of each padded), with every target labelled clean or junk from the row's junk spans.
 */
import { readTextDocuments } from "@rho1/reference-scorer";
import type { Tokenizer } from "@rho1/tokenizer";
import { junkTokens } from "./token-labels.ts";

export interface Probe {
  seqLen: number;
  rows: Int32Array[];
  /** [rows × (seqLen − 1)] 1 where the target ids[t+1] is a real token. */
  valid: Float32Array;
  /** [rows × (seqLen − 1)] 1 where the target is junk (0 for clean text, EOS and padding). */
  junk: Uint8Array;
}

export async function buildProbe(parquet: string, tokenizer: Tokenizer, seqLen: number): Promise<Probe> {
  const texts: string[] = [];
  const spans: [number, number][][] = [];
  for await (const d of readTextDocuments(parquet)) texts.push(d.text ?? "");
  for await (const d of readTextDocuments(parquet, "metadata")) {
    const meta = JSON.parse(d.text ?? "{}") as { rho1_demo?: { junk_spans?: [number, number][] } };
    spans.push(meta.rho1_demo?.junk_spans ?? []);
  }
  const bos = tokenizer.bosId ?? 1;
  const eos = tokenizer.eosId ?? 2;
  const rows: Int32Array[] = [];
  const valid: number[] = [];
  const junk: number[] = [];
  tokenizer.encodeCorpus(texts).forEach((ids, d) => {
    const labels = junkTokens(texts[d], spans[d], ids, (id) => tokenizer.idToToken(id) ?? "");
    const stream = [bos, ...ids, eos];
    const streamJunk = [0, ...labels, 0];
    for (let start = 0; start + 1 < stream.length; start += seqLen) {
      const n = Math.min(seqLen, stream.length - start);
      const row = new Int32Array(seqLen).fill(eos);
      row.set(stream.slice(start, start + n));
      rows.push(row);
      for (let t = 0; t < seqLen - 1; t++) {
        valid.push(t + 1 < n ? 1 : 0);
        junk.push(t + 1 < n ? streamJunk[start + t + 1] : 0);
      }
    }
  });
  return { seqLen, rows, valid: Float32Array.from(valid), junk: Uint8Array.from(junk) };
}
