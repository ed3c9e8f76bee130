import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockOutput } from "@rho1/io";
import { parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { type OwmRow, writeOwmParquet } from "./build-corpus.ts";
import { exportScoresParquet, firstDocuments } from "./export.ts";
import { fileAsyncBuffer, readTextDocuments } from "./input.ts";
import { scoreCorpus } from "./score.ts";
import { ScoreStore } from "./store.ts";
import { fakeScorer, fakeTokenizer } from "./testing/fakes.ts";

const ROOT = join(import.meta.dir, "../../..");
const SAMPLE = join(ROOT, "data/corpus/owm-sample.parquet");
let dir: string;

async function makeStore(outDir: string, inputs: string[], lossDtype: "f32" | "f16" = "f32") {
  await scoreCorpus({
    modelDir: join(ROOT, "models/stories260K"),
    data: inputs,
    outDir,
    seqLen: 48,
    batchSize: 4,
    lossDtype,
    tokenizer: fakeTokenizer(),
    scorer: fakeScorer(),
    progress: null,
  });
  return ScoreStore.open(outDir);
}

async function readBack(path: string) {
  const size = Bun.file(path).size;
  const file = fileAsyncBuffer(path, size);
  const metadata = await parquetMetadataAsync(file);
  const rows = (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[];
  return { metadata, rows };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rho1-export-"));
  const rows: OwmRow[] = [];
  for await (const doc of readTextDocuments(SAMPLE)) {
    rows.push({ url: `u${rows.length}`, text: (doc.text as string).slice(0, 200), date: "", metadata: "{}" });
  }
  await writeOwmParquet(rows.slice(0, 50), join(dir, "a.parquet"), { rowGroupSize: 12 });
  await writeFile(
    join(dir, "b.jsonl"),
    `${rows
      .slice(50, 70)
      .map((r) => JSON.stringify({ text: r.text }))
      .join("\n")}\n`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("exportScoresParquet", () => {
  test("round trip: every row equals the store bit for bit (f32 and f16 stores)", async () => {
    for (const lossDtype of ["f32", "f16"] as const) {
      const store = await makeStore(
        join(dir, `store-${lossDtype}`),
        [join(dir, "a.parquet"), join(dir, "b.jsonl")],
        lossDtype,
      );
      const out = join(dir, `export-${lossDtype}.parquet`);
      const summary = await exportScoresParquet(join(dir, `store-${lossDtype}`), out, { rowGroupRows: 7 });
      expect(summary.sequences).toBe(store.numSequences);
      expect(summary.rowGroups).toBe(Math.ceil(store.numSequences / 7));
      const { metadata, rows } = await readBack(out);
      expect(metadata.row_groups.length).toBe(summary.rowGroups);
      expect(metadata.row_groups[0].columns[0].meta_data?.codec).toBe("ZSTD");
      expect(rows.length).toBe(store.numSequences);
      for (let i = 0; i < store.numSequences; i++) {
        const seq = store.sequence(i);
        const row = rows[i];
        expect(row.input_ids as number[]).toEqual(Array.from(seq.ids));
        const loss = Float32Array.from(row.ref_loss as number[]);
        // bit for bit: compare the raw float32 patterns, not approximate values
        expect(new Uint32Array(loss.buffer)).toEqual(new Uint32Array(Float32Array.from(seq.refLoss).buffer));
        expect((row.valid as boolean[]).map(Number)).toEqual(Array.from(seq.valid));
        expect(row.source_file).toBe(store.manifest.sources[seq.source.file].path);
        expect(row.row_group).toBe(seq.source.unit);
      }
      // the export's own description of the store travels with it
      const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value]));
      expect(kv["rho1.format"]).toBe("rho1-score-export");
      expect(JSON.parse(kv["rho1.store"] as string).seqLen).toBe(48);
    }
  });

  test("first_doc is the document holding each row's first token", () => {
    // unit of 4 rows: docs start at (0,0) (0,30) (2,5) (3,0)
    const docs = Uint32Array.from([0, 0, 70, 0, 30, 45, 2, 5, 40, 3, 0, 9]);
    expect(Array.from(firstDocuments(docs, 4, 100), Number)).toEqual([100, 101, 101, 103]);
  });

  test("first_doc agrees with the store's document table", async () => {
    const store = ScoreStore.open(join(dir, "store-f32"));
    const { rows } = await readBack(join(dir, "export-f32.parquet"));
    // a row whose first token starts a document names exactly that document
    let checked = 0;
    for (let i = 0; i < store.numSequences; i++) {
      const starts = store.documentsIn(i);
      if (starts.length && starts[0][0] === 0) {
        const unit = store.manifest.units.find(
          (u) => i >= u.firstSequence && i < u.firstSequence + u.sequences,
        );
        const before = [...Array(i - (unit?.firstSequence ?? 0)).keys()].reduce(
          (n, k) => n + store.documentsIn((unit?.firstSequence ?? 0) + k).length,
          0,
        );
        expect(Number(rows[i].first_doc)).toBe((unit?.firstDocument ?? 0) + before);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  test("a shard store is refused, nothing is left behind", async () => {
    const shardDir = join(dir, "shard");
    await scoreCorpus({
      modelDir: join(ROOT, "models/stories260K"),
      data: [join(dir, "a.parquet")],
      outDir: shardDir,
      seqLen: 48,
      batchSize: 4,
      shard: { index: 0, count: 2 },
      tokenizer: fakeTokenizer(),
      scorer: fakeScorer(),
      progress: null,
    });
    const out = join(dir, "shard.parquet");
    await expect(exportScoresParquet(shardDir, out)).rejects.toThrow(/shard 0\/2; merge the shards first/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("a rerun removes temp files of dead writers only, then writes whole", async () => {
    const out = join(dir, "rerun.parquet");
    const sleeper = Bun.spawn(["sleep", "30"]);
    const dead = Bun.spawnSync(["true"]).pid; // exited: its pid is gone
    writeFileSync(`${out}.tmp-${dead}`, "half a file");
    writeFileSync(`${out}.tmp-${sleeper.pid}`, "another live writer's work");
    try {
      await exportScoresParquet(join(dir, "store-f32"), out);
      expect(existsSync(`${out}.tmp-${dead}`)).toBe(false);
      expect(existsSync(`${out}.tmp-${sleeper.pid}`)).toBe(true);
      expect((await readBack(out)).rows.length).toBe(ScoreStore.open(join(dir, "store-f32")).numSequences);
    } finally {
      sleeper.kill();
    }
  });

  test("a second writer of the same file is refused, naming the first", async () => {
    const out = join(dir, "locked.parquet");
    const lock = lockOutput(dir, "another export", undefined, ".locked.parquet.rho1.lock");
    try {
      await expect(exportScoresParquet(join(dir, "store-f32"), out)).rejects.toThrow(
        /is in use by pid \d+ .*another export/,
      );
      expect(existsSync(out)).toBe(false);
    } finally {
      lock.release();
    }
    await exportScoresParquet(join(dir, "store-f32"), out);
    expect(existsSync(join(dir, ".locked.parquet.rho1.lock"))).toBe(false);
  });
});
