import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScoreStore, scoreCorpus } from "@rho1/reference-scorer";
import { CausalLM, parseConfig, setupBackend } from "@rho1/transformer";
import { UsageError } from "../command.ts";
import { command, heatmapDocs, lossValidity, parseDocList, shownLength } from "./report.ts";

const ROOT = join(import.meta.dir, "../../../..");
const STORIES = join(ROOT, "models/stories260K");
const tmp = mkdtempSync(join(tmpdir(), "rho1-report-cmd-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("helpers", () => {
  test("parseDocList", () => {
    expect(parseDocList("0,1,2")).toEqual([0, 1, 2]);
    expect(parseDocList("3-5, 9")).toEqual([3, 4, 5, 9]);
    expect(() => parseDocList("1,x")).toThrow(UsageError);
    expect(() => parseDocList("5-3")).toThrow("runs backwards");
    expect(() => parseDocList("-1")).toThrow(UsageError);
  });

  test("lossValidity reads both mask layouts and checks lengths", () => {
    const ids = [5, 6, 7, 0];
    expect(Array.from(lossValidity({ index: 0, ids, refLoss: [1, 1, 1], valid: [1, 1, 0] }))).toEqual([
      1, 1, 0,
    ]);
    expect(Array.from(lossValidity({ index: 0, ids, refLoss: [1, 1, 1], valid: [1, 1, 1, 0] }))).toEqual([
      1, 1, 0,
    ]);
    expect(() => lossValidity({ index: 3, ids, refLoss: [1, 1, 1], valid: [1] })).toThrow(
      "sequence 3: valid has 1",
    );
    expect(() => lossValidity({ index: 3, ids, refLoss: [1], valid: [1, 1, 1] })).toThrow("refLoss has 1");
    expect(shownLength(new Float32Array([1, 1, 0]), 4)).toBe(3);
    expect(shownLength(new Float32Array([0, 0, 0]), 4)).toBe(4);
  });

  test("heatmapDocs: token j carries position j-1's numbers, padding is dropped, top-k selected", () => {
    const seqs = [
      { index: 7, ids: [1, 10, 11, 12, 0], refLoss: [1, 2, 3, 0], valid: [1, 1, 1, 0] },
      { index: 8, ids: [1, 20, 21, 0, 0], refLoss: [1, 1, 0, 0], valid: [1, 1, 0, 0] },
    ];
    const ce = [
      [3, 2.5, 3.5, 9],
      [1.5, 4, 9, 9],
    ];
    const docs = heatmapDocs(seqs, ce, (id) => `p${id}`, 0.6, "batch");
    expect(docs[0].title).toBe("sequence 7");
    expect(docs[0].tokens).toEqual(["p1", "p10", "p11", "p12"]);
    expect(docs[1].tokens).toEqual(["p1", "p20", "p21"]);
    expect(docs[0].excess.slice(1)).toEqual([2, 0.5, 0.5]);
    expect(Number.isNaN(docs[0].excess[0])).toBe(true);
    expect(docs[1].excess.slice(1)).toEqual([0.5, 3]);
    expect(docs[0].loss.slice(1)).toEqual([3, 2.5, 3.5]);
    expect(docs[0].refLoss.slice(1)).toEqual([1, 2, 3]);
    // 5 valid positions, k = floor(0.6 * 5) = 3: excess 3 and 2, then the 0.5 tie goes to the lowest flat index.
    expect(docs[0].selected).toEqual([false, true, true, false]);
    expect(docs[1].selected).toEqual([false, false, true]);
    // Per sequence: k = floor(0.6*3) = 1 and floor(0.6*2) = 1.
    const perSeq = heatmapDocs(seqs, ce, (id) => `p${id}`, 0.6, "sequence");
    expect(perSeq[0].selected).toEqual([false, true, false, false]);
    expect(perSeq[1].selected).toEqual([false, false, true]);
  });
});

describe("rho1 report on a real score store", () => {
  const scores = join(tmp, "scores");
  const other = join(tmp, "other-model");

  beforeAll(async () => {
    const data = join(tmp, "docs.jsonl");
    writeFileSync(
      data,
      [
        "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell?\nAnswer: 48/2 = 24 and 48+24 = 72.\nThe answer is 72.",
        "We use cookies to improve your experience. Accept all | Home | About\nOnce upon a time there was a little cat.",
      ]
        .map((text) => JSON.stringify({ text }))
        .join("\n"),
    );
    await scoreCorpus({
      modelDir: STORIES,
      data: [data],
      outDir: scores,
      seqLen: 48,
      batchSize: 4,
      progress: null,
    });
    // A second, different model (random weights, same config and tokenizer) to compare against the reference.
    await setupBackend();
    const config = parseConfig(JSON.parse(readFileSync(join(STORIES, "config.json"), "utf8")), "config.json");
    const model = CausalLM.random(config, 3);
    await model.save(other, { tokenizerDir: STORIES });
    model.dispose();
  }, 60_000);

  /** Per token of the page: [excess, selected] from the tooltips (NaN = no score). */
  function tokensOf(html: string): { excess: number; selected: boolean }[] {
    const docs = html.slice(html.indexOf('class="hm-docs"'));
    return [...docs.matchAll(/<span class="(tok[^"]*)"[^>]* title="([^"]*)"/g)].map((m) => {
      const e = /excess ([-+0-9.e]+)/.exec(m[2]);
      return { excess: e ? Number(e[1]) : Number.NaN, selected: m[1].split(" ").includes("sel") };
    });
  }

  test("the reference model against itself: excess 0 everywhere (losses aligned), k = floor(0.6 n)", async () => {
    const out = join(tmp, "self.html");
    expect(await command.run(["--scores", scores, "--model", STORIES, "--docs", "0,1", "--out", out])).toBe(
      0,
    );
    const html = readFileSync(out, "utf8");
    expect(html.match(/<article class="hm-doc"/g)?.length).toBe(2);
    const store = ScoreStore.open(scores);
    let nValid = 0;
    for (const i of [0, 1]) nValid += store.sequence(i).valid.reduce((s, v) => s + v, 0);
    const toks = tokensOf(html);
    const scored = toks.filter((t) => Number.isFinite(t.excess));
    expect(scored.length).toBe(nValid);
    for (const t of scored) expect(Math.abs(t.excess)).toBeLessThan(1e-4);
    expect(toks.filter((t) => t.selected).length).toBe(Math.floor(0.6 * nValid));
  }, 60_000);

  test("another model: selected tokens are exactly the top excess, per sequence scope", async () => {
    const out = join(tmp, "other.html");
    const args = [
      "--scores",
      scores,
      "--model",
      other,
      "--tokenizer",
      STORIES,
      "--docs",
      "0",
      "--scope",
      "sequence",
    ];
    expect(await command.run([...args, "--ratio", "0.5", "--out", out])).toBe(0);
    const toks = tokensOf(readFileSync(out, "utf8")).filter((t) => Number.isFinite(t.excess));
    const sel = toks.filter((t) => t.selected).map((t) => t.excess);
    const unsel = toks.filter((t) => !t.selected).map((t) => t.excess);
    expect(sel.length).toBe(Math.floor(0.5 * toks.length));
    expect(Math.min(...sel)).toBeGreaterThanOrEqual(Math.max(...unsel));
    expect(Math.max(...toks.map((t) => Math.abs(t.excess)))).toBeGreaterThan(0.5);
  }, 60_000);

  test("bad usage is a UsageError naming the option", async () => {
    const base = ["--scores", scores, "--model", STORIES, "--out", join(tmp, "x.html")];
    await expect(command.run(base.slice(0, 4))).rejects.toThrow("missing required option --out");
    await expect(command.run([...base, "--docs", "0,99"])).rejects.toThrow("--docs 99 out of range");
    await expect(command.run([...base, "--ratio", "0"])).rejects.toThrow("--ratio expects a number");
    await expect(command.run([...base, "--scope", "global"])).rejects.toThrow(
      "--scope expects batch or sequence",
    );
  });

  test("exit codes: bad usage 2, bad input (no score store there) 1", async () => {
    const { main } = await import("../main.ts");
    expect(await main(["report", "--scores", scores, "--model", STORIES])).toBe(2);
    const out = join(tmp, "y.html");
    expect(await main(["report", "--scores", join(tmp, "no-store"), "--model", STORIES, "--out", out])).toBe(
      1,
    );
  });
});
