import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeOwmParquet } from "@rho1/reference-scorer";

const work = mkdtempSync(join(tmpdir(), "rho1-train-data-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// packText holds the packed tokens and one row group of text; it must never hold a whole parquet file. A child
// process (so its peak RSS is its own) packs a generated 98 MB uncompressed file of 48 row groups with a
// tokenizer that gives one token per document, so the tokens are small and any growth is the reader's. Reading
// the whole file at once (hyparquet's parquetReadObjects on it) grew the peak by 3.5x the file size; streaming
// grows it by the garbage collector's slack once warm: 2 MB for a 4 MB file, 33 MB for 49 MB, 40-47 MB for 98 MB
// (76 MB when the machine is saturated by other jobs and the collector lags), 42 MB for 198 MB. The bound is the
// file's size: well clear of the slack, and a third of what reading the whole file costs.
test("packing a parquet file reads it one row group at a time: peak RSS grows by far less than the file", async () => {
  const parquet = join(work, "big.parquet");
  const rowsPerGroup = 500;
  const groups = 48;
  const row = (i: number) => `${i} ${"0123456789abcdef".repeat(256)}`; // ~4 KB, distinct
  const rows = Array.from({ length: rowsPerGroup * groups }, (_, i) => ({
    url: `u${i}`,
    text: row(i),
    date: "",
    metadata: "{}",
  }));
  await writeOwmParquet(rows, parquet, { codec: "UNCOMPRESSED", rowGroupSize: rowsPerGroup });
  const small = join(work, "small.parquet");
  await writeOwmParquet(rows.slice(0, 2 * rowsPerGroup), small, {
    codec: "UNCOMPRESSED",
    rowGroupSize: rowsPerGroup,
  });
  rows.length = 0;
  const size = statSync(parquet).size;
  expect(size).toBeGreaterThan(95e6);
  const child = join(work, "child.ts");
  await Bun.write(
    child,
    `import { packText } from ${JSON.stringify(resolve(import.meta.dir, "data.ts"))};
const peak = async () => Number(/VmHWM:\\s+(\\d+) kB/.exec(await Bun.file("/proc/self/status").text())?.[1]) * 1024;
const tokenizer = { vocabSize: 4, bosId: 1, eosId: 2, padId: 0, addBos: true, hash: "",
  encodeCorpus: (texts: string[]) => texts.map(() => [3]) };
await packText([${JSON.stringify(small)}], tokenizer, 64);
Bun.gc(true);
const before = await peak();
const source = await packText([${JSON.stringify(parquet)}], tokenizer, 64);
console.log(JSON.stringify({ before, after: await peak(), sequences: source.numSequences }));
`,
  );
  const run = Bun.spawnSync(["bun", child], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  const { before, after, sequences } = JSON.parse(run.stdout.toString());
  expect(sequences).toBe(Math.ceil((rowsPerGroup * groups * 3) / 64)); // BOS + token + EOS per document
  expect(after - before).toBeLessThan(size);
}, 120_000);
