import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReportError } from "./errors.ts";
import { formatNumber, formatSeconds } from "./format.ts";
import { tableHtml } from "./page.ts";
import { reportHtml, tokenHeatmapPage } from "./report.ts";
import { lossCurvesSvg } from "./svg.ts";
import { sampleDocs, sampleReport } from "./test-sample.ts";
import { writeHtml, writeSvg } from "./write.ts";

describe("formatting", () => {
  test("numbers and durations", () => {
    expect(formatNumber(1228800)).toBe("1,228,800");
    expect(formatNumber(2.30612)).toBe("2.306");
    expect(formatNumber(Number.NaN)).toBe("–");
    expect(formatNumber(0.00001234)).toBe("1.234e-5");
    expect(formatSeconds(4.256)).toBe("4.26 s");
    expect(formatSeconds(141)).toBe("2 min 21 s");
    expect(formatSeconds(3725)).toBe("1 h 02 min");
  });
});

describe("tableHtml", () => {
  test("escapes cells and marks the best cell of a row", () => {
    const html = tableHtml({
      columns: ["", "CLM", "S<LM>"],
      rows: [
        ["loss & co", 2.3, 2.1],
        ["acc", 0.1, 0.3],
        ["n", null, 5],
      ],
      best: ["min", "min", "max"],
    });
    expect(html).toContain("<th>S&lt;LM&gt;</th>");
    expect(html).toContain('<tr><th>loss &amp; co</th><td>2.3</td><td class="best">2.1</td></tr>');
    expect(html).toContain('<tr><th>acc</th><td class="best">0.1</td><td>0.3</td></tr>');
    expect(html).toContain('<tr><th>n</th><td>–</td><td class="best">5</td></tr>');
  });
});

describe("reportHtml", () => {
  const html = reportHtml(sampleReport());

  test("is one self-contained page: no external resources or scripts", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  test("holds every section, escaped", () => {
    for (const cls of ["summary", "stages", "curves", "heatmap", "eval", "notes"]) {
      expect(html).toContain(`<section class="card ${cls}">`);
    }
    expect(html.match(/<svg /g)?.length).toBe(2);
    expect(html).toContain('<td class="best">2.118</td>');
    expect(html).toContain("<th>total</th><td>6 min 38 s</td>");
    expect(html).toContain("rho1 · report &lt;test&gt; &amp; co");
    expect(html.match(/<article class="hm-doc"/g)?.length).toBe(2);
  });

  test("empty input gives a valid page with a title only", () => {
    const page = reportHtml({ title: "x" });
    expect(page).toContain("<h1>x</h1>");
    expect(page).not.toContain('class="card');
  });

  test("tokenHeatmapPage wraps the heat-map in a page", () => {
    const page = tokenHeatmapPage(sampleDocs(), { title: "scores" });
    expect(page).toContain("<title>scores</title>");
    expect(page).toContain('class="rho1-heatmap"');
  });
});

describe("writers", () => {
  const dir = mkdtempSync(join(tmpdir(), "rho1-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("writeSvg writes a standalone SVG file atomically", async () => {
    const path = join(dir, "sub", "curve.svg");
    await writeSvg(
      path,
      lossCurvesSvg([
        {
          name: "a",
          points: [
            [0, 1],
            [1, 0],
          ],
        },
      ]),
    );
    const text = readFileSync(path, "utf8");
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns=')).toBe(true);
  });

  test("writeSvg and writeHtml reject what is not SVG / HTML", async () => {
    await expect(writeSvg(join(dir, "x.svg"), "<div/>")).rejects.toThrow(ReportError);
    await expect(writeHtml(join(dir, "x.html"), "<svg/>")).rejects.toThrow(
      "a document starting with <!doctype html>",
    );
  });

  test("writeHtml writes the page", async () => {
    const path = join(dir, "r.html");
    await writeHtml(path, reportHtml({ title: "t" }));
    expect(readFileSync(path, "utf8")).toContain("<h1>t</h1>");
  });
});
