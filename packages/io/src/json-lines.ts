/**
 * JSON lines (one JSON value per line), read the way Python's `for line in open(f)` + `json.loads` does for the
 * data sets we read: split on "\n" only, a trailing "\r" dropped, blank lines skipped but counted. node:readline
 * would also break at U+2028/U+2029, which JSON allows unescaped inside strings (GSM8K has them) and so would cut
 * records in two.
 */
import { createReadStream, existsSync } from "node:fs";
import { Readable } from "node:stream";
import { IoError } from "./error.ts";

/** One record and its 1-based line number in the source. */
export interface JsonLine {
  line: number;
  value: unknown;
}

function parseLine(text: string, line: number, source: string): JsonLine | undefined {
  if (text.trim() === "") return undefined;
  try {
    return { line, value: JSON.parse(text) as unknown };
  } catch {
    throw new IoError("bad_json", `${source}:${line}: not valid JSON: ${text.slice(0, 80)}`, {
      file: source,
      line,
    });
  }
}

/** The records of JSON-lines text already in memory; `source` names it in errors (a path, "stdin"). */
export function* parseJsonLines(text: string, source: string): Generator<JsonLine> {
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    const record = parseLine(text.slice(start, end).replace(/\r$/, ""), line, source);
    if (record) yield record;
    start = end + 1;
  }
}

/**
 * Streams the records of a JSON-lines file (a path) or stream (stdin), holding one chunk and one line in memory.
 * `source` names a stream in errors; a path names itself.
 */
export async function* readJsonLines(
  input: string | ReadableStream<Uint8Array>,
  source = typeof input === "string" ? input : "stream",
): AsyncGenerator<JsonLine> {
  let stream: ReadableStream<Uint8Array>;
  if (typeof input === "string") {
    if (!existsSync(input)) throw new IoError("missing_file", `${input}: no such file`, { file: input });
    stream = Readable.toWeb(createReadStream(input)) as unknown as ReadableStream<Uint8Array>;
  } else stream = input;
  const decoder = new TextDecoder();
  let buffered = "";
  let line = 0;
  const reader = stream.getReader();
  let finished = false;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffered += decoder.decode(read.value, { stream: true });
      let start = 0;
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const record = parseLine(buffered.slice(start, newline).replace(/\r$/, ""), ++line, source);
        if (record) yield record;
        start = newline + 1;
        newline = buffered.indexOf("\n", start);
      }
      buffered = buffered.slice(start);
    }
    finished = true;
  } finally {
    // A consumer that stops early (or a bad line) closes the file now rather than at garbage collection.
    if (!finished) await reader.cancel();
  }
  buffered += decoder.decode();
  const last = parseLine(buffered.replace(/\r$/, ""), ++line, source);
  if (last) yield last;
}
