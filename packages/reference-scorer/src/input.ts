/**
 * Input side of the scorer: a list of parquet / JSON-lines files becomes an ordered list of commit units
 * (one parquet row group, or one byte range of a JSON-lines file), each read on its own so that memory stays
 * bounded by one row group and resuming or sharding can address units by (file, unit index).
 */
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { IoError, parseJsonLines } from "@rho1/io";
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { ScoreError } from "./errors.ts";

export type InputKind = "parquet" | "jsonl";

export interface InputUnit {
  /** Index of the file in the planned input list. */
  fileIndex: number;
  /** Row group index (parquet) or chunk index (jsonl) within the file. */
  index: number;
  /** Parquet: row range [start, end) of the row group. JSON lines: byte range; lines starting in it. */
  start: number;
  end: number;
  /** Bytes of input this unit stands for (compressed row-group size or byte range): balances shards, ETA. */
  weight: number;
}

export interface InputFile {
  path: string;
  kind: InputKind;
  size: number;
  /** Parquet rows (null for JSON lines, which are not counted up front). */
  rows: number | null;
  units: InputUnit[];
  metadata?: FileMetaData;
}

/** JSON-lines files are cut into units of this many bytes (a line belongs to the unit where it starts). */
export const DEFAULT_JSONL_UNIT_BYTES = 16 << 20;

/** An AsyncBuffer over a local file that reads only the requested slice (never the whole file). */
export function fileAsyncBuffer(path: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    slice: async (start, end) => {
      const bytes = await readRange(path, start, end ?? size);
      // Whole unless the file ended first: then the short read is copied into a buffer of its own length.
      const { buffer } = bytes;
      return (
        bytes.byteLength === buffer.byteLength ? buffer : buffer.slice(0, bytes.byteLength)
      ) as ArrayBuffer;
    },
  };
}

/** Bytes [start, end) of a file (fewer where the file ends first). */
async function readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const bytes = new Uint8Array(Math.max(0, end - start));
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return bytes.subarray(0, done);
  } finally {
    await handle.close();
  }
}

function kindOf(path: string): InputKind {
  if (/\.parquet$/i.test(path)) return "parquet";
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  throw new ScoreError("unknown_format", "expected a .parquet or .jsonl file", { file: path });
}

/** Expands directories (their *.parquet / *.jsonl files, sorted by name) and keeps files in the given order. */
export async function expandInputs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new ScoreError("missing_input", "no such file or directory", { file: path });
    });
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => /\.(parquet|jsonl|ndjson)$/i.test(n)).sort();
      if (names.length === 0)
        throw new ScoreError("missing_input", "directory has no .parquet or .jsonl files", { file: path });
      out.push(...names.map((n) => join(path, n)));
    } else {
      out.push(path);
    }
  }
  return out;
}

async function planParquet(
  path: string,
  size: number,
  fileIndex: number,
  textColumn: string,
): Promise<InputFile> {
  // Magic "PAR1" at both ends and a 4-byte footer length: anything shorter is not parquet (hyparquet would
  // report a negative byte offset).
  if (size < 12) {
    throw new ScoreError(
      size === 0 ? "empty_input" : "corrupt_input",
      `not a parquet file: ${size} bytes (${size === 0 ? "empty" : "too short for its header and footer"})`,
      { file: path },
    );
  }
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(fileAsyncBuffer(path, size));
  } catch (error) {
    throw new ScoreError("corrupt_input", `not a readable parquet file (${(error as Error).message})`, {
      file: path,
    });
  }
  // schema[0] is the root; top-level columns are its direct children.
  const columns: string[] = [];
  for (let i = 1; i < metadata.schema.length; ) {
    const element = metadata.schema[i];
    columns.push(element.name);
    i += 1 + countDescendants(metadata.schema, i);
  }
  if (!columns.includes(textColumn)) {
    throw new ScoreError(
      "missing_column",
      `no column '${textColumn}' (columns: ${columns.join(", ")}); choose one with --text-column`,
      { file: path },
    );
  }
  const units: InputUnit[] = [];
  let row = 0;
  metadata.row_groups.forEach((group, index) => {
    const rows = Number(group.num_rows);
    const weight = Number(group.total_compressed_size ?? group.total_byte_size);
    units.push({ fileIndex, index, start: row, end: row + rows, weight: Math.max(1, weight) });
    row += rows;
  });
  return { path, kind: "parquet", size, rows: Number(metadata.num_rows), units, metadata };
}

function countDescendants(schema: FileMetaData["schema"], i: number): number {
  let n = 0;
  for (let c = 0; c < (schema[i].num_children ?? 0); c++) {
    const child = i + 1 + n;
    n += 1 + countDescendants(schema, child);
  }
  return n;
}

/** Plans the units of every input file, in order. Reads parquet footers only. */
export async function planInputs(
  paths: string[],
  textColumn = "text",
  jsonlUnitBytes = DEFAULT_JSONL_UNIT_BYTES,
): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const path of await expandInputs(paths)) {
    const kind = kindOf(path);
    const size = (await stat(path)).size;
    const fileIndex = files.length;
    if (kind === "parquet") {
      files.push(await planParquet(path, size, fileIndex, textColumn));
    } else {
      const units: InputUnit[] = [];
      for (let start = 0, index = 0; start < size; start += jsonlUnitBytes, index++) {
        const end = Math.min(size, start + jsonlUnitBytes);
        units.push({ fileIndex, index, start, end, weight: end - start });
      }
      files.push({ path, kind, size, rows: null, units });
    }
  }
  return files;
}

/** The texts of one unit, in file order; null where a row has no text (null value). */
export async function readUnitTexts(
  file: InputFile,
  unit: InputUnit,
  textColumn = "text",
): Promise<(string | null)[]> {
  const records = await readUnitRecords(file, unit, textColumn, [textColumn]);
  return records.map((record) => (record[textColumn] ?? null) as string | null);
}

/**
 * The records of one unit, in file order: parquet rows (the given columns, default all) or JSON-lines objects,
 * each with its text field checked (a string or null). What `rho1 select` copies to its output.
 */
export async function readUnitRecords(
  file: InputFile,
  unit: InputUnit,
  textColumn = "text",
  columns?: string[],
): Promise<Record<string, unknown>[]> {
  return file.kind === "parquet"
    ? readRowGroup(file, unit, textColumn, columns)
    : readJsonlUnit(file, unit, textColumn);
}

async function readRowGroup(
  file: InputFile,
  unit: InputUnit,
  textColumn: string,
  columns: string[] | undefined,
): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({
      file: fileAsyncBuffer(file.path, file.size),
      metadata: file.metadata,
      columns,
      rowStart: unit.start,
      rowEnd: unit.end,
      compressors,
    });
  } catch (error) {
    const what = columns ? `column '${columns.join("', '")}'` : "row group";
    throw new ScoreError("corrupt_input", `cannot read ${what}: ${(error as Error).message}`, {
      file: file.path,
      rowGroup: unit.index,
    });
  }
  if (rows.length !== unit.end - unit.start) {
    throw new ScoreError("corrupt_input", `expected ${unit.end - unit.start} rows, read ${rows.length}`, {
      file: file.path,
      rowGroup: unit.index,
    });
  }
  rows.forEach((row, i) => {
    const value = row[textColumn];
    if (value !== null && value !== undefined && typeof value !== "string") {
      throw new ScoreError(
        "bad_text",
        `column '${textColumn}' of row ${unit.start + i} holds ${typeof value}, expected a string`,
        { file: file.path, rowGroup: unit.index },
      );
    }
  });
  return rows;
}

const NEWLINE = 10;

/** Lines that START in [unit.start, unit.end) — reads the range plus the tail of its last line. */
async function readJsonlUnit(
  file: InputFile,
  unit: InputUnit,
  textColumn: string,
): Promise<Record<string, unknown>[]> {
  const from = unit.start === 0 ? 0 : unit.start - 1;
  let to = Math.min(file.size, unit.end + (1 << 16));
  let bytes: Uint8Array;
  // The last owned line ends at the first newline at or after unit.end - 1 (or at end of file).
  for (;;) {
    bytes = await readRange(file.path, from, to);
    if (to >= file.size || bytes.indexOf(NEWLINE, unit.end - 1 - from) >= 0) break;
    to = Math.min(file.size, from + 2 * (to - from));
  }
  const first = unit.start === 0 ? 0 : bytes.indexOf(NEWLINE, 0) + 1;
  if (unit.start !== 0 && first === 0) return []; // one line spans the whole unit: it belongs to an earlier unit
  if (first + from >= unit.end) return [];
  const lastNewline = bytes.indexOf(NEWLINE, unit.end - 1 - from);
  const stop = lastNewline < 0 ? bytes.length : lastNewline;
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(first, stop));
  // Line numbers within the unit; the file line is found by counting newlines before it, on the error path only.
  const fileLine = async (line: number) => line + (await countNewlines(file.path, from + first));
  const out: Record<string, unknown>[] = [];
  try {
    for (const { line, value: record } of parseJsonLines(text, file.path)) {
      const value = (record as Record<string, unknown> | null)?.[textColumn];
      if (value === undefined) {
        throw new ScoreError("missing_column", `line ${await fileLine(line)} has no field '${textColumn}'`, {
          file: file.path,
        });
      }
      if (value !== null && typeof value !== "string") {
        throw new ScoreError(
          "bad_text",
          `line ${await fileLine(line)}: field '${textColumn}' is ${typeof value}, expected a string`,
          { file: file.path },
        );
      }
      out.push(record as Record<string, unknown>);
    }
  } catch (error) {
    if (!(error instanceof IoError)) throw error;
    const line = await fileLine(error.details.line as number);
    const why = error.message.slice(error.message.indexOf("not valid JSON"));
    throw new ScoreError("corrupt_input", `line ${line} is ${why}`, { file: file.path });
  }
  return out;
}

/** Newlines in the first `end` bytes of a file, streamed. */
async function countNewlines(path: string, end: number): Promise<number> {
  let count = 0;
  if (end <= 0) return 0;
  for await (const chunk of createReadStream(path, { start: 0, end: end - 1 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, at + 1)) count++;
  }
  return count;
}

export interface TextDocument {
  text: string | null;
  /** Row group (parquet) or chunk (jsonl) index. */
  unit: number;
  /** Position of the document within its unit. */
  row: number;
}

/**
 * Streams the documents of one parquet or JSON-lines file, one row group (or chunk) in memory at a time.
 * Async because hyparquet's reader is (the agreed API sketched a sync generator; reading is I/O).
 */
export async function* readTextDocuments(path: string, textColumn = "text"): AsyncGenerator<TextDocument> {
  const [file] = await planInputs([path], textColumn);
  for (const unit of file.units) {
    const texts = await readUnitTexts(file, unit, textColumn);
    for (let row = 0; row < texts.length; row++) yield { text: texts[row], unit: unit.index, row };
  }
}

/**
 * The units of shard `index` of `count`: a contiguous run of the global unit order, cut by cumulative input
 * bytes (a unit goes to the shard holding the midpoint of its byte span), so shards are balanced by size,
 * deterministic, and their concatenation in shard order is the full input in order.
 */
export function shardUnits(files: InputFile[], index: number, count: number): InputUnit[] {
  const all = files.flatMap((f) => f.units);
  const total = all.reduce((s, u) => s + u.weight, 0);
  let before = 0;
  const mine: InputUnit[] = [];
  for (const unit of all) {
    const shard = Math.min(count - 1, Math.floor((count * (before + unit.weight / 2)) / total));
    if (shard === index) mine.push(unit);
    before += unit.weight;
  }
  return mine;
}
