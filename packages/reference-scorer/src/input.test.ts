import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OwmRow, writeOwmParquet } from "./build-corpus.ts";
import { ScoreError } from "./errors.ts";
import { planInputs, readTextDocuments, readUnitTexts, shardUnits } from "./input.ts";

const SAMPLE = join(import.meta.dir, "../../../data/corpus/owm-sample.parquet");
let dir: string;
let rows: OwmRow[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rho1-input-"));
  rows = [];
  for await (const doc of readTextDocuments(SAMPLE)) {
    rows.push({ url: `u${rows.length}`, text: doc.text as string, date: "", metadata: "{}" });
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function allTexts(path: string, column = "text"): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for await (const doc of readTextDocuments(path, column)) out.push(doc.text);
  return out;
}

describe("shipped sample", () => {
  test("is OpenWebMath-schema ZSTD parquet with 405 rows in 7 row groups", async () => {
    const [file] = await planInputs([SAMPLE]);
    expect(file.rows).toBe(405);
    expect(file.units.map((u) => u.end - u.start)).toEqual([64, 64, 64, 64, 64, 64, 21]);
    expect(file.metadata?.schema.slice(1).map((s) => s.name)).toEqual(["url", "text", "date", "metadata"]);
    expect(file.metadata?.row_groups[0].columns[1].meta_data?.codec).toBe("ZSTD");
    expect(rows[0].text.startsWith("Natalia sold clips to 48 of her friends in April")).toBe(true);
    expect(rows[1].text.startsWith("Let \\[f(x) = \\left\\{")).toBe(true);
  });
});

describe("parquet round trip", () => {
  for (const codec of ["SNAPPY", "ZSTD", "GZIP", "UNCOMPRESSED"] as const) {
    test(`${codec}, several row groups, read one row group at a time`, async () => {
      const path = join(dir, `rt-${codec}.parquet`);
      await writeOwmParquet(rows.slice(0, 150), path, { codec, rowGroupSize: 40 });
      const [file] = await planInputs([path]);
      expect(file.units.length).toBe(4);
      expect(file.metadata?.row_groups[2].columns[1].meta_data?.codec).toBe(codec);
      const third = await readUnitTexts(file, file.units[2]);
      expect(third).toEqual(rows.slice(80, 120).map((r) => r.text));
      expect(await allTexts(path)).toEqual(rows.slice(0, 150).map((r) => r.text));
    });
  }

  test("another text column name", async () => {
    const path = join(dir, "content.parquet");
    await writeOwmParquet(rows.slice(0, 10), path, { textColumn: "content" });
    expect(await allTexts(path, "content")).toEqual(rows.slice(0, 10).map((r) => r.text));
  });
});

describe("bad input", () => {
  test("missing text column names the file and the columns found", async () => {
    const path = join(dir, "content2.parquet");
    await writeOwmParquet(rows.slice(0, 10), path, { textColumn: "content" });
    const error = await planInputs([path]).catch((e) => e);
    expect(error).toBeInstanceOf(ScoreError);
    expect(error.code).toBe("missing_column");
    expect(error.message).toContain(path);
    expect(error.message).toContain("url, content, date, metadata");
  });

  test("truncated parquet: error names the file", async () => {
    const good = join(dir, "good.parquet");
    await writeOwmParquet(rows.slice(0, 100), good, { rowGroupSize: 30 });
    const bytes = await Bun.file(good).bytes();
    const cut = join(dir, "cut.parquet");
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    const error = await planInputs([cut]).catch((e) => e);
    expect(error.code).toBe("corrupt_input");
    expect(error.file).toBe(cut);
    expect(error.message).toContain("not a readable parquet file");
  });

  test("corrupt page bytes: error names the file and the row group", async () => {
    const good = join(dir, "good2.parquet");
    await writeOwmParquet(rows.slice(0, 100), good, { rowGroupSize: 30, codec: "ZSTD" });
    const [file] = await planInputs([good]);
    const text = file.metadata?.row_groups[2].columns[1].meta_data;
    const at = Number(text?.data_page_offset) + 40; // inside row group 2's text column pages
    const bytes = await Bun.file(good).bytes();
    for (let i = at; i < at + 64; i++) bytes[i] ^= 0x5a;
    const bad = join(dir, "bad.parquet");
    await writeFile(bad, bytes);
    const [badFile] = await planInputs([bad]);
    expect(await readUnitTexts(badFile, badFile.units[1])).toHaveLength(30); // other row groups still read
    const error = await readUnitTexts(badFile, badFile.units[2]).catch((e) => e);
    expect(error).toBeInstanceOf(ScoreError);
    expect(error.rowGroup).toBe(2);
    expect(error.message).toContain(`${bad} (row group 2)`);
  });

  test("not parquet nor jsonl", async () => {
    const path = join(dir, "x.csv");
    await writeFile(path, "a,b\n");
    expect((await planInputs([path]).catch((e) => e)).code).toBe("unknown_format");
    expect((await planInputs([join(dir, "nope.parquet")]).catch((e) => e)).code).toBe("missing_input");
  });
});

describe("JSON lines", () => {
  test("every line lands in exactly one unit, whatever the unit size", async () => {
    const texts = rows.slice(0, 60).map((r) => r.text);
    texts[5] = "x".repeat(5000); // longer than a unit
    const path = join(dir, "docs.jsonl");
    await writeFile(path, `${texts.map((text) => JSON.stringify({ text, id: 1 })).join("\n")}\n`);
    for (const unitBytes of [97, 1000, 4096, 1 << 20]) {
      const [file] = await planInputs([path], "text", unitBytes);
      const got: (string | null)[] = [];
      for (const unit of file.units) got.push(...(await readUnitTexts(file, unit)));
      expect(got).toEqual(texts);
    }
  });

  test("file without final newline, blank lines, null text", async () => {
    const path = join(dir, "tail.jsonl");
    await writeFile(path, '{"text":"a"}\n\n{"text":null}\n{"text":"b"}');
    expect(await allTexts(path)).toEqual(["a", null, "b"]);
  });

  test("missing field and bad JSON are named", async () => {
    const path = join(dir, "bad.jsonl");
    await writeFile(path, '{"text":"a"}\n{"body":"b"}\n');
    const error = await allTexts(path).catch((e) => e);
    expect(error.code).toBe("missing_column");
    expect(error.message).toContain(`${path}: line 2 has no field 'text'`);
    await writeFile(path, '{"text":"a"}\n{"text":\n');
    const bad = await allTexts(path).catch((e) => e);
    expect(bad.code).toBe("corrupt_input");
    expect(bad.message).toBe(`${path}: line 2 is not valid JSON: {"text":`);
  });

  test("errors in a later chunk name the line of the file, blank lines counted", async () => {
    const path = join(dir, "chunks.jsonl");
    await writeFile(path, '{"text":"aaaa"}\n\n{"text":"bbbb"}\n{"text":"cccc"}\n{"text":7}\n');
    const [file] = await planInputs([path], "text", 20);
    expect(file.units.length).toBeGreaterThan(2);
    const error = await (async () => {
      for (const unit of file.units) await readUnitTexts(file, unit);
    })().catch((e) => e);
    expect(error.code).toBe("bad_text");
    expect(error.message).toBe(`${path}: line 5: field 'text' is number, expected a string`);
  });
});

describe("shards", () => {
  test("contiguous, disjoint, complete, balanced by bytes", async () => {
    const a = join(dir, "s1.parquet");
    const b = join(dir, "s2.parquet");
    await writeOwmParquet(rows.slice(0, 200), a, { rowGroupSize: 20 });
    await writeOwmParquet(rows.slice(200), b, { rowGroupSize: 50 });
    const files = await planInputs([a, b]);
    const all = files.flatMap((f) => f.units);
    for (const n of [1, 2, 3, 5, all.length, all.length + 3]) {
      const parts = Array.from({ length: n }, (_, i) => shardUnits(files, i, n));
      expect(parts.flat()).toEqual(all);
    }
    const three = [0, 1, 2].map((i) => shardUnits(files, i, 3).reduce((s, u) => s + u.weight, 0));
    const total = three.reduce((s, w) => s + w, 0);
    for (const w of three) expect(Math.abs(w - total / 3)).toBeLessThan(total / 6);
  });
});
