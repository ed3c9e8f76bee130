import { writeFileAtomic } from "@rho1/io";
import { ReportError } from "./errors.ts";

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
  writeFileAtomic(path, `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`, { mkdir: true });
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
  writeFileAtomic(path, html, { mkdir: true });
}
