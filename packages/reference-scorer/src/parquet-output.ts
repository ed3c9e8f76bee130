/**
 * Parquet files written whole (`score export`, `select`): under a lock of their own (`.OUT.rho1.lock` beside the
 * file, so a second writer of the same file is refused, naming the first), into `OUT.tmp-<pid>`, published by
 * fsync + rename when complete. A process killed mid-write leaves its temp file behind; the next run removes those
 * of dead processes only, so nothing half-written survives a restart.
 */
import { rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { commitFileAtomic, lockOutput, removeStaleTemps } from "@rho1/io";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import { parquetCompressors } from "./build-corpus.ts";

export type ParquetOutputOptions = Omit<
  ConstructorParameters<typeof ParquetWriter>[0],
  "writer" | "compressors"
>;

/** Writes `out` through `body(writer)`; the file appears complete or not at all. */
export async function writeParquetOutput<T>(
  out: string,
  command: string,
  options: ParquetOutputOptions,
  body: (writer: ParquetWriter) => T | Promise<T>,
): Promise<T> {
  const lock = lockOutput(dirname(out), command, undefined, `.${basename(out)}.rho1.lock`);
  removeStaleTemps(dirname(out), `${basename(out)}.tmp-`);
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    const writer = new ParquetWriter({
      ...options,
      writer: fileWriter(tmp),
      compressors: parquetCompressors,
    });
    const result = await body(writer);
    writer.finish();
    commitFileAtomic(tmp, out);
    return result;
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  } finally {
    lock.release();
  }
}
