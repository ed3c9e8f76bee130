/**
 * `rho1 score export --format parquet`: a score store as a parquet file any trainer can read (PyTorch, JAX,
 * Spark), one row per packed sequence. The store stays the format the trainer maps at zero cost; this is its
 * interchange form.
 *
 * | column        | type              | meaning                                                                  |
 * | ------------- | ----------------- | ------------------------------------------------------------------------ |
 * | `input_ids`   | list<int32> [T]   | the packed row, padding included (pad id = manifest.tokenizer.padId)      |
 * | `ref_loss`    | list<float> [T-1] | `ref_loss[t]` = reference CE of predicting `input_ids[t+1]`; 0 where !valid |
 * | `valid`       | list<bool> [T-1]  | both `input_ids[t]` and `input_ids[t+1]` are real tokens                 |
 * | `source_file` | string            | the input file the row came from (as recorded in the manifest)          |
 * | `row_group`   | int32             | its parquet row group (or JSON-lines chunk) index in that file           |
 * | `first_doc`   | int64             | global index of the document the row's first token belongs to           |
 *
 * f16 stores are widened to float32 (exact). List columns are PLAIN-encoded (no dictionary), so a reader needs
 * only the RLE level decoder and the codec: `examples/pytorch/parquet_lists.py` is such a reader in 100 lines.
 * The file is written to a temp name beside `out` and renamed when complete: an interrupted export leaves
 * nothing half-written under the final name, and a rerun starts over (export is I/O-bound and cheap).
 */
import { statSync } from "node:fs";
import type { ParquetWriter } from "hyparquet-writer";

/** The schema element type of hyparquet-writer (which pins its own hyparquet version). */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]["schema"][number];

import { ScoreError } from "./errors.ts";
import { writeParquetOutput } from "./parquet-output.ts";
import { ScoreStore } from "./store.ts";

export interface ExportParquetOptions {
  /** Sequences per row group (default: about 32 MiB of uncompressed data per group). */
  rowGroupRows?: number;
  /** Page codec (default ZSTD). */
  codec?: "ZSTD" | "SNAPPY" | "GZIP" | "UNCOMPRESSED";
}

export interface ExportSummary {
  out: string;
  sequences: number;
  rowGroups: number;
  bytes: number;
}

/** Bytes of one exported row before compression: ids (4T) + losses (4(T-1)) + valid (~(T-1)/8) + levels. */
const rowBytes = (seqLen: number) => 9 * seqLen;

const listOf = (name: string, type: "INT32" | "FLOAT" | "BOOLEAN"): SchemaElement[] => [
  { name, repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  { name: "element", repetition_type: "REQUIRED", type },
];

/** The export's parquet schema (root first), in the order of the table above. */
export const EXPORT_SCHEMA: SchemaElement[] = [
  { name: "schema", num_children: 6 },
  ...listOf("input_ids", "INT32"),
  ...listOf("ref_loss", "FLOAT"),
  ...listOf("valid", "BOOLEAN"),
  { name: "source_file", repetition_type: "REQUIRED", type: "BYTE_ARRAY", converted_type: "UTF8" },
  { name: "row_group", repetition_type: "REQUIRED", type: "INT32" },
  { name: "first_doc", repetition_type: "REQUIRED", type: "INT64" },
];

/**
 * Global index of the document holding the first token of each row of one unit: the last document that starts
 * at or before (row, 0). `docs` is the unit's (row, position, tokens) table, in stream order.
 */
export function firstDocuments(docs: Uint32Array, rows: number, firstDocument: number): BigInt64Array {
  const out = new BigInt64Array(rows);
  let d = -1; // the latest document starting at or before the current row's first token
  const numDocs = docs.length / 3;
  for (let r = 0; r < rows; r++) {
    while (
      d + 1 < numDocs &&
      (docs[3 * (d + 1)] < r || (docs[3 * (d + 1)] === r && docs[3 * (d + 1) + 1] === 0))
    )
      d++;
    out[r] = BigInt(firstDocument + Math.max(d, 0));
  }
  return out;
}

/** Writes the store at `storeDir` as parquet at `out` (atomically). */
export async function exportScoresParquet(
  storeDir: string,
  out: string,
  options: ExportParquetOptions = {},
): Promise<ExportSummary> {
  const store = ScoreStore.open(storeDir);
  const { manifest, seqLen } = store;
  if (manifest.shard) {
    throw new ScoreError(
      "incomplete_store",
      `store is shard ${manifest.shard.index}/${manifest.shard.count}; merge the shards first (rho1 score merge)`,
      { file: storeDir },
    );
  }
  const rowGroupRows = options.rowGroupRows ?? Math.max(1, Math.floor((32 << 20) / rowBytes(seqLen)));
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) {
    throw new ScoreError("bad_option", `rowGroupRows must be a positive integer, found ${rowGroupRows}`);
  }
  const settings = {
    schema: EXPORT_SCHEMA,
    codec: options.codec ?? "ZSTD",
    kvMetadata: [
      { key: "rho1.format", value: "rho1-score-export" },
      { key: "rho1.version", value: "1" },
      {
        key: "rho1.store",
        value: JSON.stringify({
          seqLen,
          tokenizer: manifest.tokenizer,
          model: manifest.model,
          lossDtype: manifest.lossDtype,
          packing: manifest.packing,
        }),
      },
    ],
    createdBy: "rho1 score export",
  };
  let rowGroups = 0;
  await writeParquetOutput(out, "rho1 score export", settings, (parquet) => {
    // Rows are gathered per row group and written as one; memory is bounded by rowGroupRows.
    let batch: {
      ids: Int32Array[];
      loss: Float32Array[];
      valid: boolean[][];
      file: string[];
      unit: number[];
      doc: bigint[];
    } = { ids: [], loss: [], valid: [], file: [], unit: [], doc: [] };
    const flush = () => {
      if (batch.ids.length === 0) return;
      parquet.write({
        columnData: [
          { name: "input_ids", data: batch.ids.map((a) => Array.from(a)), encoding: "PLAIN" },
          { name: "ref_loss", data: batch.loss.map((a) => Array.from(a)), encoding: "PLAIN" },
          { name: "valid", data: batch.valid, encoding: "PLAIN" },
          { name: "source_file", data: batch.file },
          { name: "row_group", data: batch.unit },
          { name: "first_doc", data: batch.doc },
        ],
        rowGroupSize: batch.ids.length,
      });
      rowGroups++;
      batch = { ids: [], loss: [], valid: [], file: [], unit: [], doc: [] };
    };
    manifest.units.forEach((unit, u) => {
      if (unit.sequences === 0) return;
      const view = store.unitView(u);
      const firstDocs = firstDocuments(view.docs, unit.sequences, unit.firstDocument);
      for (let r = 0; r < unit.sequences; r++) {
        const seq = store.sequence(unit.firstSequence + r);
        batch.ids.push(seq.ids);
        batch.loss.push(seq.refLoss);
        batch.valid.push(Array.from(seq.valid, (v) => v === 1));
        batch.file.push(manifest.sources[unit.file].path);
        batch.unit.push(unit.index);
        batch.doc.push(firstDocs[r]);
        if (batch.ids.length === rowGroupRows) flush();
      }
    });
    flush();
  });
  return { out, sequences: store.numSequences, rowGroups, bytes: statSync(out).size };
}
