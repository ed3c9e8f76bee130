import { ScoreStore } from "@rho1/reference-scorer";
import { type HeatmapDoc, tokenHeatmapPage, writeHtml } from "@rho1/report";
import { type SelectionScope, selectSequences } from "@rho1/selective-loss";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, setupBackend, tf } from "@rho1/transformer";
import {
  type Command,
  InputError,
  numberOption,
  parseCommandArgs,
  requireOption,
  UsageError,
} from "../command.ts";

const USAGE = `usage: rho1 report --scores DIR --model DIR --out FILE.html [options]

Renders a token heat-map of scored sequences: each token coloured by its excess loss (the model's loss minus the
reference loss stored in the score store), the tokens selective training would keep underlined, numbers on hover.
One self-contained HTML file (inline CSS, no scripts), viewable from disk.

options:
  --scores DIR       score store written by \`rho1 score\`
  --model DIR        the training model (Hugging Face folder) whose per-token loss is compared with the reference
  --tokenizer DIR    folder with tokenizer.json (default: --model)
  --docs LIST        sequence indices, e.g. 0,1,2 or 0-4 (default 0,1,2; out-of-range indices are an error)
  --ratio R          selection ratio in (0, 1] (default 0.6)
  --scope S          rank tokens over all shown sequences together ("batch", default) or per "sequence"
  --max-tokens N     tokens drawn per sequence (default 2000)
  --title TEXT       page title
  --out FILE         the HTML file to write
`;

/** "0,1,2" or "0-3,7" → [0, 1, 2, 3, 7]; anything else is a UsageError. */
export function parseDocList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`--docs expects indices like 0,1,2 or 0-4, found ${JSON.stringify(text)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UsageError(`--docs range ${part.trim()} runs backwards`);
    if (hi - lo > 10_000) throw new UsageError(`--docs range ${part.trim()} is too long`);
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** One scored sequence as the report needs it. */
export interface ScoredSequence {
  index: number;
  ids: ArrayLike<number>;
  /** refLoss[t] = reference loss of predicting ids[t+1]; length ids.length − 1. */
  refLoss: ArrayLike<number>;
  /** Loss validity per predicted position (length ids.length − 1), or per token (length ids.length). */
  valid: ArrayLike<number>;
}

/** Loss-position validity (length T−1) from a store's mask, whichever of the two layouts it uses. */
export function lossValidity(seq: ScoredSequence): Float32Array {
  const T = seq.ids.length;
  const out = new Float32Array(Math.max(0, T - 1));
  if (seq.valid.length === T - 1) {
    for (let t = 0; t < T - 1; t++) out[t] = seq.valid[t] ? 1 : 0;
  } else if (seq.valid.length === T) {
    for (let t = 0; t < T - 1; t++) out[t] = seq.valid[t] && seq.valid[t + 1] ? 1 : 0;
  } else {
    throw new InputError(
      `sequence ${seq.index}: valid has ${seq.valid.length} entries, expected ${T - 1} or ${T} for ${T} ids`,
    );
  }
  if (seq.refLoss.length !== T - 1) {
    throw new InputError(
      `sequence ${seq.index}: refLoss has ${seq.refLoss.length} entries, expected ${T - 1}`,
    );
  }
  return out;
}

/** Number of leading tokens worth showing: through the last token a valid loss predicts (drops padding). */
export function shownLength(valid: Float32Array, T: number): number {
  for (let t = valid.length - 1; t >= 0; t--) if (valid[t]) return t + 2;
  return T;
}

/**
 * Builds heat-map documents from scored sequences and the model's per-token losses (`ce[i][t]` = loss of predicting
 * ids[t+1]). Token j ≥ 1 carries the numbers of position j − 1 (the loss of predicting it); token 0 has none.
 * Selection ranks the valid excess losses like training does (selectTokens, `scope`).
 */
export interface ReportDoc extends HeatmapDoc {
  excess: number[];
  selected: boolean[];
  loss: number[];
  refLoss: number[];
}

export function heatmapDocs(
  seqs: ScoredSequence[],
  ce: ArrayLike<number>[],
  pieces: (id: number) => string,
  ratio: number,
  scope: SelectionScope,
): ReportDoc[] {
  const valids = seqs.map(lossValidity);
  const lengths = seqs.map((s, i) => shownLength(valids[i], s.ids.length));
  const { excess: excessRows, selected } = selectSequences(
    seqs.map((s, b) => ({
      ce: Array.from(ce[b]).slice(0, lengths[b] - 1),
      ref: Array.from(s.refLoss).slice(0, lengths[b] - 1),
      valid: valids[b].slice(0, lengths[b] - 1),
    })),
    ratio,
    scope,
  );
  return seqs.map((s, b) => {
    const n = lengths[b];
    const tokens: string[] = [];
    const excess: number[] = [];
    const loss: number[] = [];
    const refLoss: number[] = [];
    const sel: boolean[] = [];
    for (let j = 0; j < n; j++) {
      tokens.push(pieces(s.ids[j]));
      const t = j - 1;
      const ok = t >= 0 && valids[b][t] === 1;
      excess.push(ok ? excessRows[b][t] : Number.NaN);
      loss.push(ok ? ce[b][t] : Number.NaN);
      refLoss.push(ok ? s.refLoss[t] : Number.NaN);
      sel.push(ok && selected[b][t] === 1);
    }
    return { title: `sequence ${s.index}`, tokens, excess, loss, refLoss, selected: sel };
  });
}

/** Mean of the finite entries (NaN marks tokens without a score); NaN when there are none. */
function mean(values: number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : Number.NaN;
}

/** The model's per-token CE of one sequence (length ids.length − 1). */
async function modelLosses(model: CausalLM, ids: ArrayLike<number>): Promise<Float32Array> {
  const input = tf.tensor2d(Array.from(ids), [1, ids.length], "int32");
  try {
    const ce = tf.tidy(() => model.tokenLosses(input as tf.Tensor2D).ce);
    const values = (await ce.data()) as Float32Array; // every backend, WebGPU included
    ce.dispose();
    return Float32Array.from(values);
  } finally {
    input.dispose();
  }
}

export const command: Command = {
  name: "report",
  summary: "HTML token heat-map of excess loss and SLM selection for a score store and a model",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      scores: { type: "string" },
      model: { type: "string" },
      tokenizer: { type: "string" },
      docs: { type: "string" },
      ratio: { type: "string" },
      scope: { type: "string" },
      "max-tokens": { type: "string" },
      title: { type: "string" },
      out: { type: "string" },
    });
    const scoresDir = requireOption(values, "scores");
    const modelDir = requireOption(values, "model");
    const out = requireOption(values, "out");
    const ratio = numberOption(values, "ratio", 0.6, { min: Number.MIN_VALUE, max: 1 });
    const maxTokens = numberOption(values, "max-tokens", 2000, { integer: true, min: 1 });
    const scope = (values.scope ?? "batch") as SelectionScope;
    if (scope !== "batch" && scope !== "sequence") {
      throw new UsageError(`--scope expects batch or sequence, found ${JSON.stringify(values.scope)}`);
    }
    const docs = parseDocList(values.docs ?? "0,1,2");

    const store = ScoreStore.open(scoresDir);
    const bad = docs.filter((i) => i >= store.numSequences);
    if (bad.length) {
      throw new UsageError(
        `--docs ${bad.join(",")} out of range: ${scoresDir} holds ${store.numSequences} sequences`,
      );
    }
    await setupBackend();
    const tokenizer = await loadTokenizer(values.tokenizer ?? modelDir);
    const model = await CausalLM.load(modelDir);
    try {
      const seqs: ScoredSequence[] = docs.map((index) => ({ index, ...store.sequence(index) }));
      const ce: Float32Array[] = [];
      for (const [i, s] of seqs.entries()) {
        process.stderr.write(`rho1 report: scoring sequence ${s.index} (${i + 1}/${seqs.length})\n`);
        const n = shownLength(lossValidity(s), s.ids.length);
        const losses = new Float32Array(s.ids.length - 1);
        losses.set(await modelLosses(model, Array.from(s.ids).slice(0, n)));
        ce.push(losses);
      }
      const pieces = (id: number) => tokenizer.idToToken(id) ?? `<id ${id}>`;
      const heatDocs = heatmapDocs(seqs, ce, pieces, ratio, scope);
      const rows = heatDocs.map((d) => {
        const scored = d.excess.filter((e) => Number.isFinite(e)).length;
        const nSel = d.selected.filter(Boolean).length;
        return [
          d.title,
          d.tokens.length,
          nSel,
          scored ? `${((100 * nSel) / scored).toFixed(1)}%` : null,
          mean(d.loss),
          mean(d.refLoss),
          mean(d.excess),
        ];
      });
      const html = tokenHeatmapPage(heatDocs, {
        title: values.title ?? "Token excess loss",
        subtitle: `model ${modelDir} · scores ${scoresDir} · ratio ${ratio} · scope ${scope}`,
        maxTokens,
        summary: {
          columns: [
            "sequence",
            "tokens",
            "selected",
            "selected share",
            "mean loss",
            "mean ref loss",
            "mean excess",
          ],
          rows,
        },
      });
      await writeHtml(out, html);
      process.stderr.write(`rho1 report: wrote ${out}\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
