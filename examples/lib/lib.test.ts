import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { meanLoss, type SequenceSource, sequenceLosses } from "@rho1/train";
import { CausalLM, parseConfig, setupBackend } from "@rho1/transformer";
import { selectionHeatmap } from "./heatmap.ts";
import { readMetrics, smooth, tokensToReach } from "./metrics.ts";

describe("smooth / readMetrics", () => {
  test("trailing moving average skips missing values", () => {
    expect(smooth([1, null, 3, 5], 2)).toEqual([1, 1, 3, 4]);
    expect(smooth([2, 4, 6], 1)).toEqual([2, 4, 6]);
    expect(smooth([null], 3)[0]).toBeNaN();
  });

  test("readMetrics parses lines and names the bad one", () => {
    const dir = mkdtempSync(join(tmpdir(), "rho1-metrics-"));
    const path = join(dir, "metrics.jsonl");
    writeFileSync(path, '{"step":1,"loss":2.5}\n\n{"step":2,"loss":2.25}\n');
    expect(readMetrics(path).map((m) => m.loss)).toEqual([2.5, 2.25]);
    writeFileSync(path, '{"step":1}\n{oops\n');
    expect(() => readMetrics(path)).toThrow(`${path}:2: not valid JSON`);
    rmSync(dir, { recursive: true });
  });
});

describe("tokensToReach", () => {
  const curve = [
    { tokens: 0, loss: 4 },
    { tokens: 100, loss: 3 },
    { tokens: 200, loss: 2 },
  ];
  test("interpolates linearly between the checkpoints around the target", () => {
    expect(tokensToReach(curve, 2.5, (p) => p.loss)).toBe(150);
    expect(tokensToReach(curve, 3, (p) => p.loss)).toBe(100);
  });
  test("null when the curve never gets there; a flat step counts as reached at its end", () => {
    expect(tokensToReach(curve, 1.5, (p) => p.loss)).toBeNull();
    const flat = [
      { tokens: 0, h: 2 },
      { tokens: 50, h: 2 },
    ];
    expect(tokensToReach(flat, 2, (p) => p.h)).toBe(50);
  });
});

describe("selectionHeatmap", () => {
  const rows = [
    // 4 tokens, last target padding.
    { title: "a", ids: [1, 10, 11, 0], refLoss: [1, 1, 0], valid: [1, 1, 0] },
    { title: "b", ids: [1, 12, 13, 14], refLoss: [2, 0.5, 3], valid: [1, 1, 1] },
  ];
  const loss = [
    [3, 1.5, 9],
    [2.5, 4, 3.5],
  ];
  // excess: a: [2, 0.5, –], b: [0.5, 3.5, 0.5]; 5 valid, ratio 0.4 → k = 2: a[0] (2) and b[1] (3.5).
  const docs = selectionHeatmap(rows, loss, (id) => `t${id}`, 0.4);

  test("token j carries the numbers of predicting it; padding is dropped", () => {
    expect(docs[0].tokens).toEqual(["t1", "t10", "t11"]);
    expect(docs[1].tokens).toEqual(["t1", "t12", "t13", "t14"]);
    expect(Array.from(docs[0].excess)).toEqual([Number.NaN, 2, 0.5]);
    expect(Array.from(docs[1].excess)).toEqual([Number.NaN, 0.5, 3.5, 0.5]);
    expect(Array.from(docs[1].loss ?? [])).toEqual([Number.NaN, 2.5, 4, 3.5]);
    expect(Array.from(docs[1].refLoss ?? [])).toEqual([Number.NaN, 2, 0.5, 3]);
  });

  test("the top ratio of excess over all rows is selected", () => {
    expect(Array.from(docs[0].selected)).toEqual([false, true, false]);
    expect(Array.from(docs[1].selected)).toEqual([false, false, true, false]);
  });

  test("too few losses for a row is an error", () => {
    expect(() => selectionHeatmap(rows, [[1], [1, 2, 3]], String, 0.5)).toThrow("a: 1 losses for 4 tokens");
  });
});

describe("meanLoss / sequenceLosses", () => {
  const config = parseConfig(
    {
      architectures: ["LlamaForCausalLM"],
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      vocab_size: 32,
      max_position_embeddings: 64,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: true,
      bos_token_id: 1,
      eos_token_id: 2,
    },
    "test-config.json",
  );

  test("padding positions do not count, and batching does not change the numbers", async () => {
    await setupBackend();
    const model = CausalLM.random(config, 3);
    const full = Int32Array.from([1, 5, 9, 4, 7, 30, 2, 6]);
    const padded = Int32Array.from([1, 8, 3, 2, 0, 0, 0, 0]);
    const source: SequenceSource = {
      numSequences: 2,
      seqLen: 8,
      hasReference: false,
      sequence: (i) =>
        i === 0
          ? { ids: full, valid: new Float32Array(7).fill(1) }
          : { ids: padded, valid: Float32Array.from([1, 1, 1, 0, 0, 0, 0]) },
    };
    const [a, b] = await sequenceLosses(model, [full, padded], 1);
    const [a2] = await sequenceLosses(model, [full, padded], 2);
    expect(a2).toEqual(a);
    // Causal: the unpadded prefix [1, 8, 3, 2] alone gives the same three losses.
    const [short] = await sequenceLosses(model, [Int32Array.from([1, 8, 3, 2])]);
    for (let t = 0; t < 3; t++) expect(b[t]).toBeCloseTo(short[t], 5);
    const expected = (a.reduce((s, x) => s + x, 0) + short.reduce((s, x) => s + x, 0)) / 10;
    const { loss, tokens } = await meanLoss(model, source);
    expect(tokens).toBe(10);
    expect(loss).toBeCloseTo(expected, 5);
    // A random model over 32 tokens is near uniform: CE ≈ ln 32.
    expect(Math.abs(loss - Math.log(32))).toBeLessThan(0.5);
    model.dispose();
  });

  test("rows of different lengths in one batch are an error", async () => {
    const model = CausalLM.random(config, 3);
    await expect(
      sequenceLosses(model, [Int32Array.from([1, 2, 3]), Int32Array.from([1, 2])]),
    ).rejects.toThrow("row 1: expected 3 ids, found 2");
    model.dispose();
  });
});

describe("junkTokens", () => {
  test("labels the real tokenizer's tokens by junk character span", async () => {
    const { loadTokenizer } = await import("@rho1/tokenizer");
    const { junkTokens } = await import("./token-labels.ts");
    const tok = await loadTokenizer(join(import.meta.dir, "../../models/stories260K"));
    const junk = "Cookie © 2011 Ã©";
    const clean = "Question: 48/2 = 24";
    const text = `${junk}\n${clean}`;
    const [ids] = tok.encodeCorpus([text]);
    const labels = junkTokens(text, [[0, junk.length]], ids, (id) => tok.idToToken(id) ?? "");
    // Every token decoded alone lands on its own side of the boundary.
    const junkIds = ids.filter((_, i) => labels[i]);
    const cleanIds = ids.filter((_, i) => !labels[i]);
    expect(tok.decode(junkIds)).toBe(junk);
    expect(tok.decode(cleanIds).trim()).toBe(clean);
    expect(labels[0]).toBe(1);
    expect(labels[labels.length - 1]).toBe(0);
    expect(() => junkTokens(`${text}!`, [], ids, (id) => tok.idToToken(id) ?? "")).toThrow("pieces cover");
  });
});

describe("textJsonl", () => {
  test("one record per line even with U+2028 / U+2029 in the text", async () => {
    const { textJsonl } = await import("./clean-text.ts");
    const texts = ["a\u2028b", 'q "x"\nz\u2029', ""];
    const out = textJsonl(texts);
    expect(out).not.toMatch(/[\u2028\u2029]/);
    const lines = out.split(/\r?\n|\u2028|\u2029/).filter((l) => l !== "");
    expect(lines.map((l) => (JSON.parse(l) as { text: string }).text)).toEqual(texts);
  });
});
