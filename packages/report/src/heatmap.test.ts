import { describe, expect, test } from "bun:test";
import { divergingColor, textColorOn } from "./color.ts";
import { ReportError } from "./errors.ts";
import { type HeatmapDoc, tokenHeatmapHtml } from "./heatmap.ts";

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const doc: HeatmapDoc = {
  title: 'doc <1> & "quotes"',
  tokens: ["<s>", "▁a", "<", "&", '"', "'", "<0x0A>", "▁b"],
  excess: [Number.NaN, 2, -1, 0.5, 0, 3, -2, 1],
  selected: [false, true, false, true, false, true, false, true],
  loss: [Number.NaN, 3, 1, 2, 1, 4, 0.5, 2],
  refLoss: [Number.NaN, 1, 2, 1.5, 1, 1, 2.5, 1],
};

describe("divergingColor", () => {
  test("red minus blue rises monotonically with the value, neutral near 0, clamps beyond ±maxAbs", () => {
    let prev = Number.NEGATIVE_INFINITY;
    for (let v = -1.5; v <= 1.5; v += 0.05) {
      const [r, , b] = rgb(divergingColor(v, 1));
      expect(r - b).toBeGreaterThanOrEqual(prev);
      prev = r - b;
    }
    expect(divergingColor(0, 1)).toBe("#f6f6f4");
    expect(divergingColor(1, 1)).toBe("#b2182b");
    expect(divergingColor(-1, 1)).toBe("#2166ac");
    expect(divergingColor(5, 1)).toBe(divergingColor(1, 1));
    expect(divergingColor(Number.NaN, 1)).toBe("#e4e4e4");
  });

  test("text is white on dark backgrounds and dark on light ones", () => {
    expect(textColorOn("#b2182b")).toBe("#ffffff");
    expect(textColorOn("#f6f6f4")).toBe("#1b1b1b");
  });
});

describe("tokenHeatmapHtml", () => {
  const html = tokenHeatmapHtml([doc], { maxAbs: 2 });
  // Token spans of the documents (the legend has example spans before "hm-docs").
  const spans = [...html.matchAll(/<span class="(tok[^"]*)"([^>]*)>([^<]*)<\/span>/g)].filter(
    (m) => m.index > html.indexOf("hm-docs"),
  );

  test("one span per token, selected ones marked", () => {
    expect(spans.length).toBe(doc.tokens.length);
    expect(spans.filter((m) => m[1].split(" ").includes("sel")).length).toBe(4);
    expect(spans[0][1]).toContain("nos");
    expect(spans[0][1]).toContain("special");
  });

  test("escapes <, &, quotes in tokens, titles and tooltips", () => {
    expect(spans.map((m) => m[3])).toEqual([
      "&lt;s&gt;",
      " a",
      "&lt;",
      "&amp;",
      "&quot;",
      "&#39;",
      "↵\n",
      " b",
    ]);
    expect(html).toContain("<h3>doc &lt;1&gt; &amp; &quot;quotes&quot;</h3>");
    expect(html).not.toContain('"<"');
    // Tooltip of the '"' token: JSON-quoted piece, escaped in the attribute.
    expect(spans[4][2]).toContain('title="#4 &quot;\\&quot;&quot;');
    expect(spans[1][2]).toContain("loss 3  ref 1  excess +2\nselected (trained on)");
    expect(spans[2][2]).toContain("excess -1\nnot selected");
  });

  test("background colours follow the excess scale", () => {
    expect(spans[1][2]).toContain(`background:${divergingColor(2, 2)}`);
    expect(spans[6][2]).toContain(`background:${divergingColor(-2, 2)}`);
    expect(spans[0][2]).not.toContain("background");
  });

  test("document stats count scored and selected tokens", () => {
    expect(html).toContain("8 tokens · 4 of 7 scored selected (57.1%)");
    expect(html).toContain("mean excess selected 1.63, unselected -1");
  });

  test("default scale is the 95th percentile of |excess|; maxTokens truncates", () => {
    const small = tokenHeatmapHtml([doc], { maxTokens: 3, legend: false });
    expect(small).toContain("… 5 more tokens not shown");
    expect(small).not.toContain("hm-legend");
    // |excess| sorted: 0, .5, 1, 1, 2, 2, 3 -> q95 = 3, so +3 is the darkest red.
    expect(tokenHeatmapHtml([doc])).toContain("≥ +3");
  });

  test("categoryColors colours tokens by category, with a swatch legend and the category in the tooltip", () => {
    const colors = { "H→L": "#1b9e77", "L→L": "#bbbbbb" };
    const category = [null, "H→L", "L→L", "H→L", "L→L", "unknown", "L→L", "H→L"];
    const out = tokenHeatmapHtml([{ ...doc, category }], { categoryColors: colors });
    const tokens = [...out.matchAll(/<span class="(tok[^"]*)"([^>]*)>/g)].filter((m) =>
      m[2].includes("title="),
    );
    expect(tokens[1][2]).toContain("background:#1b9e77");
    expect(tokens[2][2]).toContain("background:#bbbbbb");
    expect(tokens[5][2]).not.toContain("background"); // a category without a colour stays uncoloured
    expect(tokens[1][2]).toContain("category H→L");
    expect(out).toContain(">H→L</span>");
    expect(out).not.toContain("excess loss = loss − reference loss");
    expect(() => tokenHeatmapHtml([{ ...doc, category: ["H→L"] }], { categoryColors: colors })).toThrow(
      "docs[0].category",
    );
  });

  test("mismatched lengths are a ReportError naming the field", () => {
    expect(() => tokenHeatmapHtml([{ ...doc, excess: [1, 2] }])).toThrow(ReportError);
    expect(() => tokenHeatmapHtml([{ ...doc, selected: [true] }])).toThrow(
      "docs[0].selected: expected 8 entries (one per token), found 1 entries",
    );
    expect(() => tokenHeatmapHtml([{ ...doc, loss: [] }])).toThrow("docs[0].loss");
  });

  test("accepts typed arrays (Float32Array excess, 0/1 selection)", () => {
    const typed = tokenHeatmapHtml([
      {
        title: "t",
        tokens: ["▁x", "▁y"],
        excess: new Float32Array([0.5, -0.5]),
        selected: new Float32Array([1, 0]),
      },
    ]);
    expect(typed.match(/class="tok sel"/g)?.length).toBe(2); // one in the legend, one token
  });
});
