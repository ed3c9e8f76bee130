/**
 * Rebuilds the corpus sample shipped in the repository (`data/corpus/owm-sample.parquet`) from the project's
 * shared GSM8K / MATH training files: every 37th record of each, interleaved, ZSTD, 64 rows per row group.
 *
 *   bun scripts/build-owm-sample.ts <folder with gsm8k_train.jsonl and math_train.jsonl>
 */
import { join } from "node:path";
import { type OwmRow, owmRowsFromJsonl, writeOwmParquet } from "../packages/reference-scorer/src/index.ts";
import { ROOT } from "./packages.ts";

export async function buildSample(corpusDir: string, out: string): Promise<number> {
  const every = (rows: OwmRow[]) => rows.filter((_, i) => i % 37 === 0);
  const gsm = every(await owmRowsFromJsonl(join(corpusDir, "gsm8k_train.jsonl")));
  const math = every(await owmRowsFromJsonl(join(corpusDir, "math_train.jsonl")));
  const rows: OwmRow[] = [];
  for (let i = 0; i < Math.max(gsm.length, math.length); i++) {
    if (i < gsm.length) rows.push(gsm[i] as OwmRow);
    if (i < math.length) rows.push(math[i] as OwmRow);
  }
  return writeOwmParquet(rows, out, { codec: "ZSTD", rowGroupSize: 64 });
}

if (import.meta.main) {
  const corpusDir = process.argv[2];
  if (!corpusDir) {
    console.error(
      "usage: bun scripts/build-owm-sample.ts <folder with gsm8k_train.jsonl and math_train.jsonl>",
    );
    process.exit(2);
  }
  const out = join(ROOT, "data/corpus/owm-sample.parquet");
  console.log(`wrote ${out} (${await buildSample(corpusDir, out)} bytes)`);
}
