import { basename, join } from "node:path";
import { writeFileAtomic } from "@rho1/io";
import { loadModelScorer, ScoreStore } from "@rho1/reference-scorer";
import { type Chart, type HeatmapDoc, reportHtml, type Table, writeHtml } from "@rho1/report";
import { CATEGORIES, selectTokens, type TokenCategory, tokenCategories } from "@rho1/selective-loss";
import { loadTokenizer } from "@rho1/tokenizer";
import { setupBackend } from "@rho1/transformer";
import { type Command, numberOption, parseCommandArgs, requireOption, UsageError } from "../command.ts";

const USAGE = `usage: rho1 analyze --scores DIR --models DIR[,DIR...] --out DIR [options]

The paper's token analysis from saved checkpoints, over the first --sequences rows of a score store:

  token categories (Fig. 3, App. B.1), with two or more --models (checkpoints in training order, or a base and
  a trained model): each token's losses over the checkpoints get a least-squares line; its change ΔL over the
  run classifies it as H→L (ΔL < −threshold: learned), L→H (ΔL > threshold: forgotten), or, when the loss barely
  moved, L→L / H→H by whether its last loss is at most the mean last loss. Paper: H→H 11%, L→H 12%, H→L 26%,
  L→L 51% (threshold 0.2).
  selected vs unselected (Fig. 6-7): per checkpoint, the tokens SLM would select at --ratio (top excess loss =
  loss − the store's reference loss, over all analysed tokens) and the mean loss of selected and unselected ones.

Writes OUT/summary.json and OUT/analysis.html (shares, per-category and selected/unselected loss curves over the
checkpoints, a heat-map coloured by category).

  --scores DIR       score store of the reference model (\`rho1 score\`)
  --models LIST      comma-separated model folders, in training order (checkpoint-N folders give x = N)
  --out DIR          output folder
  --sequences N      rows of the store analysed (default 64)
  --threshold X      ΔL threshold of the categories (default 0.2, the paper's)
  --ratio R          selection ratio for the selected/unselected view, in (0, 1] (default 0.6)
  --docs N           rows drawn in the heat-map (default 3)
  --tokenizer DIR    tokenizer folder for the heat-map (default: the first model)
`;

const CATEGORY_COLORS: Record<TokenCategory, string> = {
  "H→H": "#d95f02",
  "L→H": "#e7298a",
  "H→L": "#1b9e77",
  "L→L": "#c9c9c9",
};
const PAPER_SHARES: Record<TokenCategory, number> = { "H→H": 0.11, "L→H": 0.12, "H→L": 0.26, "L→L": 0.51 };

/**
 * x of each checkpoint: N of `checkpoint-N` folders (a first model without one, the base, is step 0) when that
 * gives distinct steps, else 0, 1, 2, ...
 */
export function checkpointPositions(models: string[]): { x: number[]; label: string } {
  const steps = models.map((m) => /checkpoint-0*(\d+)$/.exec(basename(m.replace(/\/+$/, "")))?.[1]);
  if (steps.length > 1 && steps[0] === undefined) steps[0] = "0";
  if (steps.every((s) => s !== undefined) && new Set(steps).size === steps.length) {
    return { x: steps.map(Number), label: "training step" };
  }
  return { x: models.map((_, i) => i), label: "checkpoint" };
}

const mean = (xs: ArrayLike<number>, mask?: (i: number) => boolean) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (mask && !mask(i)) continue;
    s += xs[i];
    n++;
  }
  return n ? s / n : Number.NaN;
};

export const command: Command = {
  name: "analyze",
  summary: "the paper's token analysis: loss categories across checkpoints, selected vs unselected tokens",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      scores: { type: "string" },
      models: { type: "string" },
      out: { type: "string" },
      sequences: { type: "string" },
      threshold: { type: "string" },
      ratio: { type: "string" },
      docs: { type: "string" },
      tokenizer: { type: "string" },
    });
    const scores = requireOption(values, "scores");
    const out = requireOption(values, "out");
    const models = requireOption(values, "models")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    if (models.length === 0) throw new UsageError("--models expects one or more model folders");
    const sequences = numberOption(values, "sequences", 64, { integer: true, min: 1 });
    const threshold = numberOption(values, "threshold", 0.2, { min: 0 });
    const ratio = numberOption(values, "ratio", 0.6, { min: Number.MIN_VALUE, max: 1 });
    const docsShown = numberOption(values, "docs", 3, { integer: true, min: 0 });

    const store = ScoreStore.open(scores);
    const T = store.seqLen;
    const rows = Math.min(sequences, store.numSequences);
    if (rows === 0) throw new UsageError(`${scores} holds no sequences`);
    const tokenizer = await loadTokenizer((values.tokenizer as string | undefined) ?? models[0]);
    if (tokenizer.hash !== store.manifest.tokenizer.hash) {
      throw new UsageError(
        `the tokenizer of ${values.tokenizer ?? models[0]} differs from the one that made ${scores} (sha256 ${tokenizer.hash.slice(0, 12)}… vs ${store.manifest.tokenizer.hash.slice(0, 12)}…)`,
      );
    }

    // The analysed tokens: every valid loss position of the first `rows` rows, in row-major order.
    const ids = new Int32Array(rows * T);
    const lengths = new Uint32Array(rows);
    const position: number[] = []; // flat index r·(T−1)+t of each analysed token
    const refLoss: number[] = [];
    for (let r = 0; r < rows; r++) {
      const seq = store.sequence(r);
      ids.set(seq.ids, r * T);
      lengths[r] = seq.length;
      for (let t = 0; t < T - 1; t++) {
        if (!seq.valid[t]) continue;
        position.push(r * (T - 1) + t);
        refLoss.push(seq.refLoss[t]);
      }
    }
    const N = position.length;
    const losses: Float32Array[] = [];
    const batch = 8;
    for (const [c, dir] of models.entries()) {
      process.stderr.write(`rho1 analyze: scoring ${rows} rows with ${dir} (${c + 1}/${models.length})\n`);
      await setupBackend();
      const scorer = await loadModelScorer(dir);
      try {
        const all = new Float32Array(rows * (T - 1));
        for (let r = 0; r < rows; r += batch) {
          const b = Math.min(batch, rows - r);
          const ce = await scorer.score(ids.subarray(r * T, (r + b) * T), lengths.subarray(r, r + b), b, T);
          all.set(ce, r * (T - 1));
        }
        const mine = Float32Array.from(position, (p) => all[p]);
        const bad = mine.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) {
          throw new UsageError(`${dir}: non-finite loss at row ${Math.floor(position[bad] / (T - 1))}`);
        }
        losses.push(mine);
      } finally {
        scorer.dispose?.();
      }
    }

    const { x, label } = checkpointPositions(models);
    const ones = new Float32Array(N).fill(1);
    const selection = losses.map((loss, c) => {
      const excess = Float32Array.from(loss, (l, i) => l - refLoss[i]);
      const selected = selectTokens(excess, ones, 1, N, ratio, "batch");
      return {
        model: models[c],
        x: x[c],
        meanLoss: mean(loss),
        meanLossSelected: mean(loss, (i) => selected[i] === 1),
        meanLossUnselected: mean(loss, (i) => selected[i] === 0),
        meanRefLossSelected: mean(refLoss, (i) => selected[i] === 1),
        meanRefLossUnselected: mean(refLoss, (i) => selected[i] === 0),
        selectedTokens: selected.reduce((s, v) => s + v, 0),
        selected,
      };
    });
    const categories = models.length >= 2 ? tokenCategories(losses, { x, threshold }) : null;
    const perCategory = categories
      ? Object.fromEntries(
          CATEGORIES.map((k) => [k, losses.map((loss) => mean(loss, (i) => categories.categories[i] === k))]),
        )
      : null;
    const summary = {
      scores,
      models,
      x,
      sequences: rows,
      tokens: N,
      threshold,
      ratio,
      meanRefLoss: mean(refLoss),
      categories: categories
        ? {
            counts: categories.counts,
            shares: categories.shares,
            paperShares: PAPER_SHARES,
            meanLastLoss: categories.meanLast,
            meanLossPerCheckpoint: perCategory,
          }
        : null,
      selection: selection.map(({ selected: _, ...rest }) => rest),
    };
    await import("node:fs/promises").then((fs) => fs.mkdir(out, { recursive: true }));
    writeFileAtomic(
      join(out, "summary.json"),
      new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`),
    );

    const charts: Chart[] = [];
    if (perCategory) {
      charts.push({
        title: "Loss per token category",
        xLabel: label,
        yLabel: "mean loss (nats)",
        series: CATEGORIES.map((k) => ({
          name: `${k} (${(100 * (categories?.shares[k] ?? 0)).toFixed(1)}%)`,
          color: CATEGORY_COLORS[k],
          points: x.map((xi, c) => [xi, perCategory[k][c]] as [number, number]),
        })),
      });
    }
    charts.push({
      title: `Selected vs unselected tokens (ratio ${ratio})`,
      xLabel: label,
      yLabel: "mean loss (nats)",
      series: [
        { name: "selected", points: selection.map((s) => [s.x, s.meanLossSelected] as [number, number]) },
        { name: "unselected", points: selection.map((s) => [s.x, s.meanLossUnselected] as [number, number]) },
        { name: "all", dashed: true, points: selection.map((s) => [s.x, s.meanLoss] as [number, number]) },
      ],
    });

    // Heat-map: the first rows, tokens coloured by category (or by the last checkpoint's excess with one model).
    const last = losses.length - 1;
    const flatIndex = new Map(position.map((p, i) => [p, i]));
    const heatDocs: HeatmapDoc[] = [];
    for (let r = 0; r < Math.min(docsShown, rows); r++) {
      const n = lengths[r];
      const doc: HeatmapDoc & { category: (string | null)[] } = {
        title: `sequence ${r}`,
        tokens: [],
        excess: [],
        selected: [],
        loss: [],
        refLoss: [],
        category: [],
      };
      for (let j = 0; j < n; j++) {
        doc.tokens.push(tokenizer.idToToken(ids[r * T + j]) ?? `<id ${ids[r * T + j]}>`);
        const i = j > 0 ? flatIndex.get(r * (T - 1) + j - 1) : undefined;
        (doc.excess as number[]).push(i === undefined ? Number.NaN : losses[last][i] - refLoss[i]);
        (doc.selected as boolean[]).push(i !== undefined && selection[last].selected[i] === 1);
        (doc.loss as number[]).push(i === undefined ? Number.NaN : losses[last][i]);
        (doc.refLoss as number[]).push(i === undefined ? Number.NaN : refLoss[i]);
        doc.category.push(i === undefined || !categories ? null : categories.categories[i]);
      }
      heatDocs.push(doc);
    }

    const table: Table | undefined = categories
      ? {
          caption: `${N} tokens of ${rows} rows; threshold ${threshold}`,
          columns: [
            "category",
            "tokens",
            "share",
            "paper",
            `loss at ${label} ${x[0]}`,
            `loss at ${label} ${x[last]}`,
          ],
          rows: CATEGORIES.map((k) => [
            k,
            categories.counts[k],
            `${(100 * categories.shares[k]).toFixed(1)}%`,
            `${(100 * PAPER_SHARES[k]).toFixed(0)}%`,
            perCategory?.[k][0],
            perCategory?.[k][last],
          ]),
        }
      : undefined;
    const html = reportHtml({
      title: "Token analysis",
      subtitle: `store ${scores} · models ${models.join(", ")}`,
      intro: categories
        ? "Token categories as in the Rho-1 paper (Fig. 3): how each token's loss moved across the checkpoints. H→L tokens were learned, L→H forgotten; H→H stayed hard, L→L stayed easy. The second chart is the paper's selected-vs-unselected view: at each checkpoint, the tokens SLM would select by excess loss over the store's reference."
        : "One model: the selected-vs-unselected view only (token categories need two or more checkpoints).",
      summary: table,
      curves: charts,
      heatmap: heatDocs.length
        ? {
            docs: heatDocs,
            options: categories ? { categoryColors: CATEGORY_COLORS } : {},
            intro: categories
              ? "Tokens coloured by category; underlined: selected by SLM at the last checkpoint. Hover a token for its losses."
              : undefined,
          }
        : undefined,
    });
    await writeHtml(join(out, "analysis.html"), html);
    const shares = categories
      ? CATEGORIES.map((k) => `${k} ${(100 * categories.shares[k]).toFixed(1)}%`).join("  ")
      : "categories need two or more --models";
    process.stderr.write(
      `rho1 analyze: ${N} tokens; ${shares}\nrho1 analyze: wrote ${join(out, "summary.json")} and analysis.html\n`,
    );
    process.stdout.write(`${JSON.stringify({ out, tokens: N, shares: categories?.shares ?? null })}\n`);
    return 0;
  },
};
