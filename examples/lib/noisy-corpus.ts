/**
 * The demo corpus: OpenWebMath-schema rows (url, text, date, metadata JSON) in which clean target text (GSM8K /
 * MATH-style documents) sits inside realistic web noise (see web-junk.ts), plus a held-out clean set to measure
 * the target loss and a clean set to train the reference model on. The three draw on disjoint clean documents.
 * Everything is a function of the seed.
 */
import { Rng } from "./random.ts";
import { JUNK_KINDS, type JunkKind, junkBlock, type PageContext, SITES } from "./web-junk.ts";

export interface OwmRow {
  url: string;
  text: string;
  date: string;
  /** JSON string: {"extraction_info": {...}, "rho1_demo": {clean_chars, junk_chars, junk_kinds, junk_spans, clean_index}} */
  metadata: string;
}

export interface NoisyCorpusOptions {
  /** Clean target documents (e.g. from readCleanJsonl). */
  clean: string[];
  seed: number;
  /** Target share of junk characters in the training rows, in [0, 0.95]; each row varies around it. */
  junkFraction: number;
  /** Number of training rows. */
  docs: number;
  /** Clean documents held out for the target loss (default 100). */
  heldOutDocs?: number;
  /** Clean documents for training the reference model (default 500). */
  refDocs?: number;
}

export interface NoisyCorpus {
  train: OwmRow[];
  heldOut: string[];
  refClean: string[];
}

/** Relative frequency of each junk kind (boilerplate is what web pages have most of). */
const KIND_WEIGHTS: Record<JunkKind, number> = {
  boilerplate: 0.36,
  table: 0.18,
  mojibake: 0.14,
  code: 0.16,
  ids: 0.16,
};

function pickKind(rng: Rng): JunkKind {
  let u = rng.next();
  for (const kind of JUNK_KINDS) {
    u -= KIND_WEIGHTS[kind];
    if (u < 0) return kind;
  }
  return "boilerplate";
}

const STOP = new Set([
  "the",
  "and",
  "for",
  "that",
  "with",
  "how",
  "many",
  "much",
  "what",
  "has",
  "her",
  "his",
  "are",
  "was",
  "were",
  "she",
  "they",
  "each",
  "this",
  "then",
  "than",
  "from",
  "does",
  "did",
  "will",
  "have",
  "question",
  "problem",
]);

function topicWords(text: string): string[] {
  const words = text.match(/[A-Za-z]{3,}/g) ?? [];
  return words.filter((w) => !STOP.has(w.toLowerCase())).slice(0, 4);
}

/** One training row: the clean document with junk blocks before, inside (at line breaks) and after it. */
function noisyRow(
  clean: string,
  cleanIndex: number,
  rowIndex: number,
  rng: Rng,
  junkFraction: number,
): OwmRow {
  const year = rng.int(2009, 2023);
  const ctx: PageContext = { site: rng.pick(SITES), topic: topicWords(clean), text: clean, year };
  // This row's junk share varies around the target (×0.5..1.5) so rows differ like real pages do.
  const target = Math.min(0.95, junkFraction * (0.5 + rng.next()));
  const cleanLines = clean.split("\n");
  const before: string[] = [];
  const after: string[] = [];
  const inside = new Map<number, string[]>();
  const kinds: JunkKind[] = [];
  let junkChars = 0;
  while (target > 0 && junkChars / (junkChars + clean.length) < target) {
    // Headers and footers are boilerplate; the other kinds land anywhere.
    const slot = kinds.length === 0 ? 0 : rng.int(0, 2);
    const kind = slot === 0 && kinds.length === 0 ? "boilerplate" : pickKind(rng);
    const block = junkBlock(kind, rng, ctx);
    // Blocks are large next to a short problem: stop when this one would land further from the target than now.
    const now = junkChars / (junkChars + clean.length);
    const next = (junkChars + block.length + 1) / (junkChars + block.length + 1 + clean.length);
    if (kinds.length > 0 && next - target > target - now) break;
    kinds.push(kind);
    junkChars += block.length + 1;
    if (slot === 0) before.push(block);
    else if (slot === 2 || cleanLines.length < 2) after.push(block);
    else {
      const at = rng.int(1, cleanLines.length - 1);
      inside.set(at, [...(inside.get(at) ?? []), block]);
    }
  }
  // Assemble, recording where the junk is (character spans), so analyses can split clean vs junk tokens.
  const parts: { text: string; junk: boolean }[] = [];
  for (const b of before) parts.push({ text: b, junk: true });
  cleanLines.forEach((line, i) => {
    for (const b of inside.get(i) ?? []) parts.push({ text: b, junk: true });
    parts.push({ text: line, junk: false });
  });
  for (const b of after) parts.push({ text: b, junk: true });
  let text = "";
  const spans: [number, number][] = [];
  parts.forEach((p, i) => {
    if (i > 0) text += "\n";
    if (p.junk) spans.push([text.length, text.length + p.text.length]);
    text += p.text;
  });
  const slug = ctx.topic.map((w) => w.toLowerCase()).join("-") || "page";
  const date = `${year}-${String(rng.int(1, 12)).padStart(2, "0")}-${String(rng.int(1, 28)).padStart(2, "0")}T${String(rng.int(0, 23)).padStart(2, "0")}:${String(rng.int(0, 59)).padStart(2, "0")}:00Z`;
  return {
    url: `https://${ctx.site}/${rng.pick(["questions", "threads", "post", "blog"])}/${rowIndex}/${slug}`,
    text,
    date,
    metadata: JSON.stringify({
      extraction_info: { found_math: true, mathjax_inline_tex: clean.includes("$") ? 1 : 0 },
      rho1_demo: {
        clean_index: cleanIndex,
        clean_chars: clean.length,
        junk_chars: junkChars,
        junk_kinds: kinds,
        junk_spans: spans,
      },
    }),
  };
}

/**
 * Splits the (shuffled) clean documents into held-out, reference and training pools, and wraps the training pool's
 * documents (cycled when `docs` exceeds the pool) in web junk. Throws when there are too few clean documents.
 */
export function buildNoisyCorpus(opts: NoisyCorpusOptions): NoisyCorpus {
  const { clean, seed, junkFraction, docs } = opts;
  const heldOutDocs = opts.heldOutDocs ?? 100;
  const refDocs = opts.refDocs ?? 500;
  if (!(junkFraction >= 0 && junkFraction <= 0.95))
    throw new RangeError(`junkFraction: expected 0..0.95, found ${junkFraction}`);
  if (!Number.isInteger(docs) || docs < 0)
    throw new RangeError(`docs: expected a non-negative integer, found ${docs}`);
  if (clean.length < heldOutDocs + refDocs + 1) {
    throw new RangeError(
      `clean: expected more than heldOutDocs + refDocs = ${heldOutDocs + refDocs} documents, found ${clean.length}`,
    );
  }
  const rng = new Rng(seed);
  const order = rng.shuffle(clean.map((_, i) => i));
  const heldOut = order.slice(0, heldOutDocs).map((i) => clean[i]);
  const refClean = order.slice(heldOutDocs, heldOutDocs + refDocs).map((i) => clean[i]);
  const pool = order.slice(heldOutDocs + refDocs);
  const train: OwmRow[] = [];
  let cycle = pool;
  for (let r = 0; r < docs; r++) {
    const k = r % pool.length;
    if (r > 0 && k === 0) cycle = rng.shuffle(pool);
    train.push(noisyRow(clean[cycle[k]], cycle[k], r, rng, junkFraction));
  }
  return { train, heldOut, refClean };
}
