// A deterministic sample report used by the tests (and handy for eyeballing the layout); not exported.
import type { HeatmapDoc } from "./heatmap.ts";
import type { ReportInput } from "./report.ts";

/** Splits text into SentencePiece-like pieces: words get "▁", newlines become <0x0A>, non-ASCII become bytes. */
export function fakePieces(text: string): string[] {
  const pieces: string[] = [];
  for (const m of text.matchAll(/\n| ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]/g)) {
    const t = m[0];
    if (t === "\n") pieces.push("<0x0A>");
    else if (/[^\x20-\x7e]/.test(t)) {
      if (t.startsWith(" ")) pieces.push("▁");
      for (const b of new TextEncoder().encode(t.trim()))
        pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    } else pieces.push(t.replace(/^ /, "▁"));
  }
  return pieces;
}

function doc(title: string, text: string, junk: (piece: string, i: number) => boolean): HeatmapDoc {
  const tokens = ["<s>", ...fakePieces(text)];
  const excess = tokens.map((p, i) => {
    if (i === 0) return Number.NaN;
    const wobble = Math.sin(i * 1.7) * 0.6;
    return junk(p, i) ? -1.2 + wobble : 0.9 + wobble;
  });
  // Top 60% by excess, as SLM's batch selection would pick.
  const order = excess
    .map((e, i) => [e, i] as const)
    .filter(([e]) => Number.isFinite(e))
    .sort((a, b) => b[0] - a[0]);
  const keep = new Set(order.slice(0, Math.floor(order.length * 0.6)).map(([, i]) => i));
  return {
    title,
    tokens,
    excess,
    selected: tokens.map((_, i) => keep.has(i)),
    loss: excess.map((e) => e + 2.5),
    refLoss: excess.map(() => 2.5),
  };
}

export function sampleDocs(): HeatmapDoc[] {
  return [
    doc(
      "sequence 0 — GSM8K-style problem",
      "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.\nNatalia sold 48/2 = 24 clips in May.\n#### 72",
      () => false,
    ),
    doc(
      'sequence 1 — web page <junk> & "boilerplate"',
      "We use cookies to improve your experience. Accept all | Home | About | Contact\nÃ© Ã¨ â€™ café 3f9a2c7e-41b0\nShare this: Facebook Twitter\nThe area is 6 * 7 = 42 square units.",
      (_p, i) => i < 44,
    ),
  ];
}

export function sampleReport(): ReportInput {
  const steps = Array.from({ length: 13 }, (_, i) => i * 50);
  const curve = (start: number, end: number, rate: number) =>
    steps.map((s) => [s, end + (start - end) * Math.exp(-rate * s)] as [number, number]);
  return {
    title: "rho1 demo: selective language modelling",
    subtitle: "stories260K · 600 steps × 16 × 128 tokens · seed 0",
    intro:
      "Plain causal LM (CLM) and selective LM (SLM, ratio 0.6) continue pretraining the same base on the same noisy corpus.",
    highlights: [
      { label: "held-out loss, SLM", value: 2.118, sub: "−0.19 vs CLM" },
      { label: "held-out loss, CLM", value: 2.306 },
      { label: "tokens selected", value: "60%", sub: "737,280 of 1,228,800" },
    ],
    summary: {
      columns: ["", "base", "CLM", "SLM"],
      rows: [
        ["held-out loss (clean)", 2.91, 2.306, 2.118],
        ["tokens trained", null, 1228800, 737280],
        ["tokens seen", null, 1228800, 1228800],
      ],
      best: ["min", null, null],
    },
    stages: [
      { name: "build corpus", seconds: 1.8 },
      { name: "train reference", seconds: 72.4 },
      { name: "score", seconds: 31.2 },
      { name: "train CLM", seconds: 141 },
      { name: "train SLM", seconds: 139.5 },
      { name: "evaluate", seconds: 12.3, note: "reused" },
    ],
    curves: [
      {
        title: "Held-out loss (clean target text)",
        xLabel: "step",
        yLabel: "loss",
        series: [
          { name: "CLM", points: curve(2.9, 2.3, 0.006) },
          { name: "SLM", points: curve(2.9, 2.1, 0.008) },
        ],
        caption: "Lower is better.",
      },
      {
        title: "SLM training loss by token group",
        xLabel: "step",
        yLabel: "loss",
        series: [
          { name: "all", points: curve(3.1, 2.6, 0.005) },
          { name: "selected", points: curve(3.3, 2.2, 0.008) },
          { name: "unselected", points: curve(2.8, 3.0, 0.004), dashed: true },
        ],
      },
    ],
    heatmap: { docs: sampleDocs() },
    evalTable: {
      columns: ["task", "base", "CLM", "SLM"],
      rows: [["gsm8k (8 items)", 0, 0, 0.125]],
      best: ["max"],
    },
    notes: ["Numbers here are a fixed sample used by the tests."],
    footer: "rho1 · report <test> & co",
  };
}
