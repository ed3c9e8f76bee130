import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ReportError } from "./errors.ts";

/** Writes text atomically: `<path>.tmp-<pid>` then rename, so a reader never sees a half-written file. */
async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Writes an SVG document (e.g. from `lossCurvesSvg`) as a standalone .svg file, with an XML declaration. */
export async function writeSvg(path: string, svg: string): Promise<void> {
  const body = svg.trimStart();
  if (!body.startsWith("<svg") || !body.includes('xmlns="http://www.w3.org/2000/svg"')) {
    throw new ReportError(
      `svg for ${path}`,
      '<svg xmlns="http://www.w3.org/2000/svg" ...>',
      JSON.stringify(body.slice(0, 40)),
    );
  }
  await writeAtomic(path, `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`);
}

/** Writes an HTML page (e.g. from `reportHtml`). */
export async function writeHtml(path: string, html: string): Promise<void> {
  if (!/^\s*<!doctype html>/i.test(html)) {
    throw new ReportError(
      `html for ${path}`,
      "a document starting with <!doctype html>",
      JSON.stringify(html.slice(0, 40)),
    );
  }
  await writeAtomic(path, html);
}
