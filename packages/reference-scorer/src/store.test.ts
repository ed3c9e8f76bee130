import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeOwmParquetGroups } from "./build-corpus.ts";
import { scoreCorpus } from "./score.ts";
import { ScoreStore } from "./store.ts";
import { fakeLoss, fakeScorer, fakeTokenizer } from "./testing/fakes.ts";

const work = mkdtempSync(join(tmpdir(), "rho1-store-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Training reads rows of the store at random. Mapping each unit on first use kept every touched unit resident: a
// run that had sampled every unit held the whole store in RSS (1.5 GB for a 300 MB corpus). Rows are now read
// with pread, so a pass over every unit leaves RSS where it was. A child process (its peak RSS is its own) opens
// a ~100 MB store without and with verification and reads 4,000 rows from every unit in random order: the old
// reader grew by 93 MB (unverified: each unit's losses are checked on first use) and 44 MB (verified); this one by
// 12 MB (the 8 MB check buffer, and garbage) and under 1 MB.
test("reading rows at random from every unit of a 100 MB store does not grow RSS with the store", async () => {
  const data = join(work, "corpus.parquet");
  const groups = function* () {
    for (let g = 0; g < 24; g++)
      yield Array.from({ length: 500 }, (_, i) => ({
        url: `u${g}.${i}`,
        text: `${g}.${i} ${"the loss of each token, ".repeat(40)}`,
        date: "",
        metadata: "{}",
      }));
  };
  await writeOwmParquetGroups(groups(), data, { codec: "ZSTD" });
  const out = join(work, "store");
  const manifest = await scoreCorpus({
    modelDir: join(import.meta.dir, "../../../models/stories260K"),
    data: [data],
    outDir: out,
    seqLen: 64,
    batchSize: 64,
    tokenizer: fakeTokenizer(),
    scorer: fakeScorer(),
    progress: null,
  });
  const storeBytes = manifest.units.reduce((s, u) => s + u.bytes, 0);
  expect(storeBytes).toBeGreaterThan(90e6);

  // The rows read back are the stored ones (spot checks against the fake model's losses).
  const store = ScoreStore.open(out, { verify: true });
  for (const i of [0, 1, 777, store.numSequences - 1]) {
    const row = store.sequence(i);
    expect(row.ids).toHaveLength(64);
    for (let t = 0; t + 1 < row.length; t++) expect(row.refLoss[t]).toBe(Math.fround(fakeLoss(row.ids, t)));
    expect(row.refLoss.subarray(Math.max(0, row.length - 1)).every((x) => x === 0)).toBe(true);
  }
  store.close();

  const child = join(work, "child.ts");
  await Bun.write(
    child,
    `import { ScoreStore } from ${JSON.stringify(resolve(import.meta.dir, "store.ts"))};
const rss = async () => Number(/VmHWM:\\s+(\\d+) kB/.exec(await Bun.file("/proc/self/status").text())?.[1]) * 1024;
const peaks = {};
for (const verify of [false, true]) {
  const store = ScoreStore.open(${JSON.stringify(out)}, { verify });
  for (let i = 0; i < 200; i++) store.sequence(i); // warm: the code paths, the first unit
  Bun.gc(true);
  const before = await rss();
  let x = 7, sum = 0;
  for (let k = 0; k < 4000; k++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    sum += store.sequence(x % store.numSequences).ids[1];
  }
  peaks[verify ? "verified" : "unverified"] = (await rss()) - before;
  store.close();
}
console.log(JSON.stringify(peaks));
`,
  );
  const run = Bun.spawnSync(["bun", child], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  const growth = JSON.parse(run.stdout.toString());
  expect(growth.unverified).toBeLessThan(0.2 * storeBytes);
  expect(growth.verified).toBeLessThan(0.2 * storeBytes);
}, 120_000);
