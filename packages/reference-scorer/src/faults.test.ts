/**
 * The scorer and the store under misuse: a model that gives NaN, empty inputs, and stores edited after scoring.
 * Each case must be refused with a ScoreError naming the file (and unit / row), never stored or trained on.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScoreError } from "./errors.ts";
import { readManifest } from "./manifest.ts";
import { mergeScores } from "./merge.ts";
import { type ScoreCorpusOptions, scoreCorpus } from "./score.ts";
import { ScoreStore } from "./store.ts";
import { fakeScorer, fakeTokenizer } from "./testing/fakes.ts";

const MODEL = join(import.meta.dir, "../../../models/stories260K");
let dir: string;
let corpus: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rho1-score-faults-"));
  corpus = join(dir, "c.jsonl");
  const docs = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({ text: `document ${i} ${"word ".repeat(i % 7)}` }),
  );
  writeFileSync(corpus, `${docs.join("\n")}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const score = (outDir: string, extra: Partial<ScoreCorpusOptions> = {}) =>
  scoreCorpus({
    modelDir: MODEL,
    data: [corpus],
    outDir,
    seqLen: 32,
    batchSize: 4,
    tokenizer: fakeTokenizer(),
    scorer: fakeScorer(),
    progress: null,
    jsonlUnitBytes: 400,
    ...extra,
  });

async function scoreError(p: Promise<unknown>): Promise<ScoreError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ScoreError);
    return error as ScoreError;
  }
  throw new Error("expected a ScoreError");
}

test("a model giving NaN: scoring stops at the first non-finite loss, naming unit and row; the store stays unfinished", async () => {
  const out = join(dir, "nan");
  const inner = fakeScorer();
  let calls = 0;
  const scorer = {
    ...inner,
    score(ids: Int32Array, lengths: Uint32Array, batch: number, seqLen: number) {
      const ce = inner.score(ids, lengths, batch, seqLen) as Float32Array;
      if (++calls === 3) ce[seqLen - 1 + 4] = Number.NaN; // second row of the third batch, 5th token
      return ce;
    },
  };
  const error = await scoreError(score(out, { scorer }));
  expect(error.code).toBe("non_finite_loss");
  expect(error.message).toMatch(
    new RegExp(
      `^${corpus} \\(row group \\d+\\): reference loss NaN at packed row \\d+ of this unit, token 5: `,
    ),
  );
  expect(existsSync(join(out, "manifest.json"))).toBe(false);
  expect(() => ScoreStore.open(out)).toThrow("not a finished score store");
  // Rerun with a sound model: it resumes and finishes.
  expect((await score(out)).counts.documents).toBe(40);
});

test("empty input: a 0-byte .jsonl, blank and null texts, or a 0-byte parquet are 'no documents', never a store", async () => {
  const empty = join(dir, "empty.jsonl");
  writeFileSync(empty, "");
  const blank = join(dir, "blank.jsonl");
  writeFileSync(blank, '{"text": null}\n{"text": "   "}\n\n');
  for (const data of [[empty], [empty, blank]]) {
    const out = join(dir, `empty-${data.length}`);
    const error = await scoreError(score(out, { data }));
    expect(error.code).toBe("empty_input");
    expect(error.message).toBe(
      `no documents in ${data.join(", ")} (empty files, or only empty or null texts)`,
    );
    expect(existsSync(join(out, "manifest.json"))).toBe(false);
  }
  const parquet = join(dir, "empty.parquet");
  writeFileSync(parquet, "");
  const error = await scoreError(score(join(dir, "empty-parquet"), { data: [parquet] }));
  expect(error.message).toBe(`${parquet}: not a parquet file: 0 bytes (empty)`);
  writeFileSync(parquet, "PAR1");
  expect((await scoreError(score(join(dir, "short-parquet"), { data: [parquet] }))).message).toBe(
    `${parquet}: not a parquet file: 4 bytes (too short for its header and footer)`,
  );
  // A shard may be empty (more shards than units); the merge of all-empty shards is refused.
  const shardOut = join(dir, "empty-shard");
  await score(shardOut, { data: [blank], shard: { index: 0, count: 2 } });
  await score(join(dir, "empty-shard-1"), { data: [blank], shard: { index: 1, count: 2 } });
  const merged = await scoreError(
    mergeScores([shardOut, join(dir, "empty-shard-1")], join(dir, "empty-merged")),
  );
  expect(merged.code).toBe("empty_input");
});

test("stores are verified at open: a unit edited in place, truncated or holding NaN is refused, naming it", async () => {
  const out = join(dir, "verified");
  await score(out);
  const units = readdirSync(join(out, "units")).sort();
  expect(units.length).toBeGreaterThan(3);
  expect(ScoreStore.open(out, { verify: true }).numSequences).toBeGreaterThan(0);

  const copy = (name: string) => {
    const to = join(dir, name);
    rmSync(to, { recursive: true, force: true });
    Bun.spawnSync(["cp", "-r", out, to]);
    return to;
  };
  // Losses overwritten in place (same size): only the checksum can tell.
  const edited = copy("edited");
  const unit = join(edited, "units", units[1]);
  const fd = openSync(unit, "r+");
  writeSync(fd, new Uint8Array(new Float32Array([0.5, 0.5]).buffer), 0, 8, await lossOffset(unit));
  closeSync(fd);
  const error = (() => {
    try {
      ScoreStore.open(edited, { verify: true });
    } catch (e) {
      return e as ScoreError;
    }
  })();
  expect(error).toBeInstanceOf(ScoreError);
  expect(error?.code).toBe("corrupt_store");
  expect(error?.message).toStartWith(`${unit}: unit checksum `);
  expect(error?.message).toContain("the file changed after scoring");
  expect(ScoreStore.open(edited, { verify: false }).numSequences).toBeGreaterThan(0); // --no-verify trusts it

  // Truncated: refused at open even without verification.
  const truncated = copy("truncated");
  const cut = join(truncated, "units", units[2]);
  truncateSync(cut, 100);
  for (const verify of [true, false]) {
    expect(() => ScoreStore.open(truncated, { verify })).toThrow(
      `${cut}: unit file has 100 bytes, the manifest says`,
    );
  }

  // NaN written into a unit and the manifest's checksum "fixed" to match: the loss check still refuses it.
  const poisoned = copy("poisoned");
  const bad = join(poisoned, "units", units[0]);
  const pfd = openSync(bad, "r+");
  const layoutRow = 1;
  writeSync(
    pfd,
    new Uint8Array(new Float32Array([Number.NaN]).buffer),
    0,
    4,
    (await lossOffset(bad)) + 4 * (31 * layoutRow + 2),
  );
  closeSync(pfd);
  const manifest = readManifest(poisoned);
  manifest.units[0].sha256 = new Bun.CryptoHasher("sha256").update(await Bun.file(bad).bytes()).digest("hex");
  writeFileSync(join(poisoned, "manifest.json"), JSON.stringify(manifest));
  for (const verify of [true, false]) {
    const store = ScoreStore.open(poisoned, { verify: false });
    const e = (() => {
      try {
        if (verify) ScoreStore.open(poisoned, { verify: true });
        else store.sequence(0); // without verification: on the unit's first use
      } catch (x) {
        return x as ScoreError;
      }
    })();
    expect(e?.code).toBe("non_finite_loss");
    expect(e?.message).toBe(
      `${bad}: reference loss NaN at packed row 1, token 3: this store cannot be trained on; rescore it`,
    );
  }
});

async function lossOffset(path: string): Promise<number> {
  const { decodeUnitHeader } = await import("./unit-file.ts");
  return decodeUnitHeader(await Bun.file(path).bytes(), path).lossOffset;
}
