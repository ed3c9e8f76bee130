/**
 * `rho1 train` memory is bounded by the batch, not by the data: a generated 300 MB parquet file of real text trains
 * for 2 steps under 1 GB peak RSS, and peaks within a few tens of MB of a 30 MB file. Each run is its own process
 * (peak RSS is per process), reporting its VmHWM from /proc/self/status after `main` returns.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { type OwmRow, readTextDocuments, writeOwmParquetGroups } from "@rho1/reference-scorer";
import { ROOT, STORIES, tempDir } from "./test-support.ts";

const work = tempDir("rho1-train-memory-");
const MB = 1e6;

/** Row groups of 1000 distinct documents (the shipped math sample, each numbered) until `bytes` of text. */
async function corpus(path: string, bytes: number): Promise<number> {
  const sample: string[] = [];
  for await (const doc of readTextDocuments(join(ROOT, "data/corpus/owm-sample.parquet")))
    if (doc.text) sample.push(doc.text);
  function* groups(): Generator<OwmRow[]> {
    for (let g = 0, written = 0; written < bytes; g++) {
      const rows = Array.from({ length: 1000 }, (_, i) => {
        const text = `${g}.${i}: ${sample[(g * 1000 + i) % sample.length]}`;
        written += text.length;
        return { url: `u${g}.${i}`, text, date: "", metadata: "{}" };
      });
      yield rows;
    }
  }
  return writeOwmParquetGroups(groups(), path, { codec: "UNCOMPRESSED" });
}

async function peakOfTrain(data: string, out: string): Promise<number> {
  const child = join(work, "train-child.ts");
  await Bun.write(
    child,
    `import { main } from ${JSON.stringify(join(ROOT, "packages/cli/src/main.ts"))};
const code = await main(JSON.parse(process.argv[2]));
const status = await Bun.file("/proc/self/status").text();
console.log(JSON.stringify({ code, peak: Number(/VmHWM:\\s+(\\d+) kB/.exec(status)?.[1]) * 1024 }));
`,
  );
  const args = ["train", "--model", STORIES, "--data", data, "--seq-len", "128", "--batch-size", "8"];
  args.push("--steps", "2", "--out", out);
  const run = Bun.spawnSync(["bun", child, JSON.stringify(args)], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = run.stdout.toString();
  if (run.exitCode !== 0 || !stdout.includes('"code":0'))
    throw new Error(`${stdout}\n${run.stderr.toString()}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) as string).peak;
}

test("rho1 train on a 300 MB parquet file peaks under 1 GB, within 100 MB of a 30 MB file", async () => {
  const small = join(work, "small.parquet");
  const big = join(work, "big.parquet");
  expect(await corpus(small, 30 * MB)).toBeGreaterThan(30 * MB);
  expect(await corpus(big, 300 * MB)).toBeGreaterThan(300 * MB);
  const smallPeak = await peakOfTrain(small, join(work, "out-small"));
  const bigPeak = await peakOfTrain(big, join(work, "out-big"));
  // Reading the whole file and holding its token stream peaked at 8 GB here; streaming with a token spill file
  // peaks at about 250 MB for both.
  expect(bigPeak).toBeLessThan(1e9);
  expect(Math.abs(bigPeak - smallPeak)).toBeLessThan(100 * MB);
}, 300_000);
