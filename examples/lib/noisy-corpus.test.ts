import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatGsm8k, readCleanJsonl } from "./clean-text.ts";
import { buildNoisyCorpus } from "./noisy-corpus.ts";
import { mojibake } from "./web-junk.ts";

// Real GSM8K training documents (MIT) when shared/ is beside the repo; otherwise a few inline ones, varied.
const SHARED = join(import.meta.dir, "../../../shared/data/corpus/gsm8k_train.jsonl");
const INLINE = [
  {
    question:
      "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
    answer:
      "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
  },
  {
    question:
      "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?",
    answer:
      "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10",
  },
];
const clean = existsSync(SHARED)
  ? readCleanJsonl(SHARED, 400)
  : Array.from({ length: 400 }, (_, i) =>
      formatGsm8k(INLINE[i % 2]).replace(/\d+/, (n) => String(Number(n) + i)),
    );
if (!existsSync(SHARED))
  console.warn(`noisy-corpus tests: ${SHARED} absent, using inline GSM8K-style documents`);

describe("formatGsm8k", () => {
  test("drops calculator annotations and ends with the answer sentence", () => {
    expect(formatGsm8k(INLINE[0])).toBe(
      "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?\nAnswer: Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\nThe answer is 72.",
    );
  });
});

describe("mojibake", () => {
  test("UTF-8 read as Windows-1252, the classic way", () => {
    expect(mojibake("it’s café × “x”")).toBe("itâ€™s cafÃ© Ã— â€œxâ€\u009d");
  });
});

describe("buildNoisyCorpus", () => {
  const opts = { clean, seed: 7, junkFraction: 0.4, docs: 300, heldOutDocs: 50, refDocs: 100 };
  const a = buildNoisyCorpus(opts);

  test("is deterministic by seed", () => {
    expect(buildNoisyCorpus(opts)).toEqual(a);
    const other = buildNoisyCorpus({ ...opts, seed: 8 });
    expect(other.train[0].text).not.toBe(a.train[0].text);
    expect(other.heldOut).not.toEqual(a.heldOut);
  });

  test("held-out, reference and training documents are disjoint", () => {
    expect(a.heldOut.length).toBe(50);
    expect(a.refClean.length).toBe(100);
    expect(a.train.length).toBe(300);
    const heldOut = new Set(a.heldOut);
    const ref = new Set(a.refClean);
    for (const doc of a.refClean) expect(heldOut.has(doc)).toBe(false);
    for (const row of a.train) {
      const meta = JSON.parse(row.metadata).rho1_demo;
      const source = clean[meta.clean_index];
      expect(heldOut.has(source)).toBe(false);
      expect(ref.has(source)).toBe(false);
      // The clean document's lines all survive, in order, inside the noisy row.
      let at = 0;
      for (const line of source.split("\n")) {
        const found = row.text.indexOf(line, at);
        expect(found).toBeGreaterThanOrEqual(at);
        at = found + line.length;
      }
    }
  });

  test("rows follow the OpenWebMath schema", () => {
    for (const row of a.train.slice(0, 20)) {
      expect(Object.keys(row).sort()).toEqual(["date", "metadata", "text", "url"]);
      expect(row.url).toMatch(/^https:\/\/[a-z0-9.-]+\.example\/\w+\/\d+\//);
      expect(row.date).toMatch(/^20\d\d-\d\d-\d\dT\d\d:\d\d:00Z$/);
      expect(JSON.parse(row.metadata).extraction_info.found_math).toBe(true);
    }
  });

  test("junk share is near the target and every kind of junk appears", () => {
    let junk = 0;
    let total = 0;
    const kinds = new Map<string, number>();
    for (const row of a.train) {
      const meta = JSON.parse(row.metadata).rho1_demo;
      let spanChars = 0;
      for (const [s, e] of meta.junk_spans as [number, number][]) {
        expect(s).toBeLessThan(e);
        spanChars += e - s;
      }
      junk += spanChars;
      total += row.text.length;
      for (const k of meta.junk_kinds) kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    const share = junk / total;
    expect(share).toBeGreaterThan(0.33);
    expect(share).toBeLessThan(0.47);
    expect([...kinds.keys()].sort()).toEqual(["boilerplate", "code", "ids", "mojibake", "table"]);
    const all = a.train.map((r) => r.text).join("\n");
    expect(all).toMatch(/cookies/i);
    expect(all).toMatch(/Ã|â€/); // mojibake
    expect(all).toMatch(/[0-9a-f]{32}/); // hashes
    expect(all).toMatch(/\| \d{4} \| /); // number tables
  });

  test("junkFraction 0 gives the clean documents alone", () => {
    const plain = buildNoisyCorpus({ ...opts, junkFraction: 0, docs: 5 });
    for (const row of plain.train)
      expect(row.text).toBe(clean[JSON.parse(row.metadata).rho1_demo.clean_index]);
  });

  test("cycles the training pool when more rows are asked than documents remain", () => {
    const many = buildNoisyCorpus({ ...opts, docs: 600 });
    expect(many.train.length).toBe(600);
    const used = new Set(many.train.map((r) => JSON.parse(r.metadata).rho1_demo.clean_index));
    expect(used.size).toBe(clean.length - 150);
  });

  test("bad options are rejected", () => {
    expect(() => buildNoisyCorpus({ ...opts, junkFraction: 1 })).toThrow("junkFraction");
    expect(() => buildNoisyCorpus({ ...opts, docs: -1 })).toThrow("docs");
    expect(() => buildNoisyCorpus({ ...opts, clean: clean.slice(0, 150) })).toThrow("found 150");
  });
});
