/**
 * Builds OpenWebMath-schema parquet files (string columns url, text, date, metadata) for tests, benchmarks
 * and the demo, with hyparquet-writer. hyparquet-writer ships only a Snappy compressor; ZSTD and GZIP pages
 * are compressed with Bun's built-in libzstd / zlib through its `compressors` hook (the reader decodes them
 * with the independent fzstd / gunzip of hyparquet-compressors, so a round trip checks both sides).
 */
import { rmSync, statSync } from "node:fs";
import { commitFileAtomic, gzipSync, readJsonLines, writeFileAtomic, zstdCompressSync } from "@rho1/io";
import { fileWriter, ParquetWriter, parquetWriteBuffer, schemaFromColumnData } from "hyparquet-writer";

export interface OwmRow {
  url: string;
  text: string;
  date: string;
  /** A JSON string, as in OpenWebMath. */
  metadata: string;
}

export type ParquetCodec = "SNAPPY" | "ZSTD" | "GZIP" | "UNCOMPRESSED";

export interface WriteOwmOptions {
  codec?: ParquetCodec;
  /** Rows per row group (default 1000). */
  rowGroupSize?: number;
  /** Name of the text column (default "text"), to build files with another schema. */
  textColumn?: string;
}

/** hyparquet-writer's compressors hook: ZSTD (level 3) and GZIP through @rho1/io (Bun's built-ins, or node:zlib). */
export const parquetCompressors = {
  ZSTD: (input: Uint8Array) => zstdCompressSync(input, 3),
  GZIP: (input: Uint8Array) => gzipSync(input),
};

/** The OpenWebMath schema's columns of `rows`: url, text (named `textColumn`), date, metadata, all strings. */
function owmColumns(rows: OwmRow[], textColumn: string) {
  const column = (name: string, pick: (r: OwmRow) => string) => ({
    name,
    data: rows.map(pick),
    type: "STRING" as const,
    nullable: false,
  });
  return [
    column("url", (r) => r.url),
    column(textColumn, (r) => r.text),
    column("date", (r) => r.date),
    column("metadata", (r) => r.metadata),
  ];
}

/** Writes `rows` as an OpenWebMath-schema parquet file, atomically (temp file + rename). Returns its size. */
export async function writeOwmParquet(
  rows: OwmRow[],
  path: string,
  options: WriteOwmOptions = {},
): Promise<number> {
  const { codec = "SNAPPY", rowGroupSize = 1000, textColumn = "text" } = options;
  const buffer = parquetWriteBuffer({
    columnData: owmColumns(rows, textColumn),
    codec,
    compressors: parquetCompressors,
    rowGroupSize,
  });
  writeFileAtomic(path, new Uint8Array(buffer));
  return buffer.byteLength;
}

/**
 * Writes row groups as they come (one row group per item of `groups`), so a file of any size is built with one
 * row group in memory: what tests and benchmarks of large inputs use. Atomic (temp file, fsync, rename). Returns
 * the file's size.
 */
export async function writeOwmParquetGroups(
  groups: Iterable<OwmRow[]> | AsyncIterable<OwmRow[]>,
  path: string,
  options: Omit<WriteOwmOptions, "rowGroupSize"> = {},
): Promise<number> {
  const { codec = "SNAPPY", textColumn = "text" } = options;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const writer = new ParquetWriter({
      writer: fileWriter(tmp),
      schema: schemaFromColumnData({ columnData: owmColumns([], textColumn) }),
      codec,
      compressors: parquetCompressors,
    });
    for await (const rows of groups) {
      const columnData = owmColumns(rows, textColumn).map(({ name, data }) => ({ name, data }));
      await writer.write({ columnData, rowGroupSize: rows.length });
    }
    writer.finish();
    commitFileAtomic(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  return statSync(path).size;
}

/**
 * Turns the GSM8K / MATH training files of `shared/data/corpus` (or any JSON lines with `text`, or
 * question/answer, or problem/solution fields) into OpenWebMath-style rows: text = question + "\n" + answer
 * (or problem + "\n" + solution); url names the source file and line.
 */
export async function owmRowsFromJsonl(path: string, limit = Number.POSITIVE_INFINITY): Promise<OwmRow[]> {
  const name = path.split("/").pop() ?? path;
  const rows: OwmRow[] = [];
  for await (const { line, value } of readJsonLines(path)) {
    if (rows.length >= limit) break;
    const record = value as Record<string, unknown>;
    const text =
      typeof record.text === "string"
        ? record.text
        : typeof record.question === "string"
          ? `${record.question}\n${String(record.answer ?? "")}`
          : `${String(record.problem ?? "")}\n${String(record.solution ?? "")}`;
    const meta: Record<string, unknown> = { source: name, line };
    if (typeof record.type === "string") meta.subject = record.type;
    if (typeof record.level === "string") meta.level = record.level;
    rows.push({ url: `file://${name}#L${line}`, text, date: "", metadata: JSON.stringify(meta) });
  }
  return rows;
}
