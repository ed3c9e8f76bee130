import { describe, expect, test } from "bun:test";
import { ReportError } from "./errors.ts";
import { niceTicks } from "./format.ts";
import { lossCurvesSvg } from "./svg.ts";

describe("niceTicks", () => {
  test("1-2-5 steps covering the range", () => {
    expect(niceTicks(0, 10, 5)).toEqual({ ticks: [0, 2, 4, 6, 8, 10], lo: 0, hi: 10 });
    expect(niceTicks(2.13, 2.87, 5).ticks).toEqual([2, 2.2, 2.4, 2.6, 2.8, 3]); // step 0.74/5 -> 0.2
    expect(niceTicks(3, 3).lo).toBeLessThan(3);
  });
});

describe("lossCurvesSvg", () => {
  const svg = lossCurvesSvg(
    [
      {
        name: "CLM <all>",
        points: [
          [0, 3],
          [100, 2.5],
          [200, 2.2],
        ],
      },
      {
        name: "SLM & co",
        color: "#ff0000",
        points: [
          [0, 3],
          [100, Number.NaN],
          [200, 2],
        ],
        dashed: true,
      },
    ],
    { title: 'Held-out "loss"', xLabel: "step", yLabel: "loss", width: 600, height: 300 },
  );

  test("is a standalone SVG with one path per series, escaped labels and a legend", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
    expect(svg.match(/<path /g)?.length).toBe(2);
    expect(svg).toContain(">CLM &lt;all&gt;</text>");
    expect(svg).toContain(">SLM &amp; co</text>");
    expect(svg).toContain(">Held-out &quot;loss&quot;</text>");
    expect(svg).toContain('stroke="#ff0000"');
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  test("maps data to pixels: x 0..200 spans the plot, lower loss is lower on screen", () => {
    // margins: left 66 (y label), right 18 -> plot 66..582; top 36 (title), bottom 48 -> 36..252; y ticks 2..3.
    expect(svg).toContain('d="M66 36L324 144L582 208.8"');
  });

  test("a NaN point breaks the line into separate segments", () => {
    expect(svg).toContain('d="M66 36M582 252"');
  });

  test("bad points are a ReportError", () => {
    expect(() => lossCurvesSvg([{ name: "x", points: [[1, 2, 3] as unknown as [number, number]] }])).toThrow(
      ReportError,
    );
    expect(() => lossCurvesSvg([{ name: "x", points: [[1, "2"] as unknown as [number, number]] }])).toThrow(
      "series[0].points[0]",
    );
  });

  test("empty input still draws axes", () => {
    const empty = lossCurvesSvg([]);
    expect(empty).toContain("<svg");
    expect(empty).not.toContain("<path");
  });
});
