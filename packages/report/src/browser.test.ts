// Opens real report pages from disk in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// they must load without console or page errors, make no network requests, show the expected elements, and
// leave a screenshot (kept in $RHO1_SCREENSHOT_DIR when set, e.g. by CI; otherwise a temp dir removed afterwards).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { reportHtml, tokenHeatmapPage } from "./report.ts";
import { sampleDocs, sampleReport } from "./test-sample.ts";
import { writeHtml } from "./write.ts";

const CHROMIUM = process.env.RHO1_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const keepDir = process.env.RHO1_SCREENSHOT_DIR;
const dir = keepDir ?? mkdtempSync(join(tmpdir(), "rho1-report-browser-"));
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  mkdirSync(dir, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (!keepDir) rmSync(dir, { recursive: true, force: true });
});

/** Opens `html` from a file and records everything that went wrong while loading it. */
async function open(name: string, html: string): Promise<{ page: Page; problems: string[] }> {
  const file = join(dir, `${name}.html`);
  await writeHtml(file, html);
  const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
  const problems: string[] = [];
  const url = pathToFileURL(file).href;
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (r.url() !== url) problems.push(`request: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: "load" });
  return { page, problems };
}

describe.skipIf(!haveChromium)("report pages in headless Chromium", () => {
  test("report.html loads cleanly, shows every part, and screenshots", async () => {
    const input = sampleReport();
    const { page, problems } = await open("report", reportHtml(input));
    expect(await page.title()).toBe(input.title);
    expect(await page.locator("section.card").count()).toBe(6);
    expect(await page.locator("figure.chart svg path").count()).toBe(5);
    const box = await page.locator("figure.chart svg").first().boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(150);
    const docs = input.heatmap?.docs ?? [];
    const nSelected = docs.reduce((n, d) => n + Array.from(d.selected).filter(Boolean).length, 0);
    const nTokens = docs.reduce((n, d) => n + d.tokens.length, 0);
    expect(await page.locator(".hm-doc .tok").count()).toBe(nTokens);
    expect(await page.locator(".hm-doc .tok.sel").count()).toBe(nSelected);
    // The selected mark and the newline are really drawn.
    const sel = page.locator(".hm-doc .tok.sel").first();
    expect(await sel.evaluate((e) => getComputedStyle(e).boxShadow)).toContain(
      "rgb(17, 17, 17) 0px -3px 0px 0px inset",
    );
    expect(
      await page
        .locator(".hm-text")
        .first()
        .evaluate((e) => e.textContent),
    ).toContain("in May.↵\nNatalia sold 48/2");
    // The CSS-only switch dims unselected tokens.
    const unselected = page.locator(".hm-doc .tok:not(.sel):not(.nos)").first();
    expect(await unselected.evaluate((e) => getComputedStyle(e).opacity)).toBe("1");
    expect(await unselected.evaluate((e) => getComputedStyle(e).boxShadow)).not.toContain("rgb(17, 17, 17)");
    await page.locator(".hm-toggle input").check();
    expect(Number(await unselected.evaluate((e) => getComputedStyle(e).opacity))).toBeLessThan(0.5);
    await page.locator(".hm-toggle input").uncheck();
    const shot = join(dir, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    expect(problems).toEqual([]);
    console.log(`report screenshot: ${shot}`);
    await page.close();
  }, 30_000);

  test("a heat-map page of tricky tokens loads cleanly", async () => {
    const docs = sampleDocs();
    docs[0] = {
      ...docs[0],
      tokens: ["<s>", "▁<script>", "alert(1)", "</script>", "▁&amp;", '"', "<0xC3>", "<0xA9>", "<0x0A>"],
      excess: [Number.NaN, 1, 2, 3, -1, -2, 0.5, 0.5, 0],
      selected: [false, true, true, true, false, false, true, false, false],
      loss: undefined,
      refLoss: undefined,
    };
    const { page, problems } = await open("heatmap", tokenHeatmapPage(docs, { title: "tricky" }));
    const text = await page
      .locator(".hm-text")
      .first()
      .evaluate((e) => e.textContent);
    expect(text).toBe('<s> <script>alert(1)</script> &amp;"é↵\n');
    expect(await page.locator("script").count()).toBe(0);
    await page.screenshot({ path: join(dir, "heatmap.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);
});
