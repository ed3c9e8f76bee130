/**
 * scoreCorpus: input files -> units (row groups) -> tokens -> packed rows -> reference losses -> unit files.
 *
 * Resumable: a unit is committed by renaming its finished file into `units/`; a rerun of the same command
 * skips committed units and redoes at most the one that was in flight, so SIGKILL at any moment loses
 * nothing and duplicates nothing. `run.json` (the job's spec, written first) refuses a rerun with different
 * settings; `manifest.json` (written last, atomically) marks the store finished.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { lockOutput, removeStaleTemps, writeFileAtomic } from "@rho1/io";
import { ConfigError, defaultSeqLen, type LlamaConfig, readConfig } from "@rho1/transformer";
import { emptyInput, ScoreError } from "./errors.ts";
import {
  DEFAULT_JSONL_UNIT_BYTES,
  type InputFile,
  type InputUnit,
  planInputs,
  readUnitTexts,
  shardUnits,
} from "./input.ts";
import {
  buildManifest,
  manifestJson,
  readManifest,
  type ScoreManifest,
  type ScoreSpec,
  STORE_FORMAT,
  STORE_VERSION,
  sourceEntries,
  specDifference,
  specOf,
  unitFileName,
} from "./manifest.ts";
import { hashModelDir, loadCorpusTokenizer, loadModelScorer, type TokenScorer } from "./model.ts";
import { type CorpusTokenizer, packDocuments, padIdOf } from "./pack.ts";
import { ProgressReporter, type ProgressSink, stderrSink } from "./progress.ts";
import { encodeUnit, type LossDtype, mapUnit, UNIT_VERSION } from "./unit-file.ts";

export interface ScoreCorpusOptions {
  modelDir: string;
  data: string[];
  outDir: string;
  /** Tokens per packed row (default: the model's max_position_embeddings, at most 2048). */
  seqLen?: number;
  batchSize: number;
  textColumn?: string;
  lossDtype?: LossDtype;
  shard?: { index: number; count: number };
  /** Tokenizer folder (default: modelDir). */
  tokenizerDir?: string;
  /** Injected scorer (tests, custom models); default: CausalLM.load(modelDir).tokenLosses. */
  scorer?: TokenScorer;
  /** Injected tokenizer; default: loadTokenizer(tokenizerDir). */
  tokenizer?: CorpusTokenizer;
  /** Progress lines (default: stderr); null for silence. */
  progress?: ProgressSink | null;
  /** Least time between two progress lines (default 2000 ms). */
  progressIntervalMs?: number;
  /** Bytes per JSON-lines unit (default 16 MiB). */
  jsonlUnitBytes?: number;
  /** If given, milliseconds spent per stage are added to it (benchmarks: where the time goes). */
  timings?: StageTimings;
}

export interface StageTimings {
  read: number;
  tokenize: number;
  model: number;
  write: number;
}

/**
 * Test hook for the kill tests: RHO1_SCORE_KILL_AT="<point>:<n>[:<signal>]" sends this process SIGKILL (or
 * <signal>, e.g. SIGSTOP to freeze it mid-shard for a job engine to cancel) the n-th time it passes <point>
 * (batch, unit-tmp, unit-done, manifest-tmp, manifest-done).
 */
const killCounts = new Map<string, number>();
function killPoint(point: string): void {
  const spec = process.env.RHO1_SCORE_KILL_AT;
  if (!spec) return;
  const [name, n, signal = "SIGKILL"] = spec.split(":");
  if (name !== point) return;
  const count = (killCounts.get(point) ?? 0) + 1;
  killCounts.set(point, count);
  if (count === Number(n)) process.kill(process.pid, signal as NodeJS.Signals);
}

/** The reference model's config (transformer's parser), its failures as a ScoreError naming the file. */
function modelConfig(modelDir: string): LlamaConfig {
  try {
    return readConfig(modelDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ScoreError("missing_model", `cannot read model config (${error.message})`, {
      file: error.file,
    });
  }
}

function checkOptions(o: ScoreCorpusOptions): void {
  if (o.seqLen !== undefined && (!Number.isInteger(o.seqLen) || o.seqLen < 2))
    throw new ScoreError("bad_option", `seqLen must be an integer >= 2, got ${o.seqLen}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    throw new ScoreError("bad_option", `batchSize must be an integer >= 1, got ${o.batchSize}`);
  if (o.data.length === 0) throw new ScoreError("bad_option", "no input files");
  if (o.shard) {
    const { index, count } = o.shard;
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
      throw new ScoreError("bad_option", `shard must be i/n with 0 <= i < n, got ${index}/${count}`);
    }
  }
}

function unitDone(
  path: string,
  seqLen: number,
  lossDtype: LossDtype,
): { documents: number; tokens: number } | null {
  if (!statSync(path, { throwIfNoEntry: false })?.size) return null;
  try {
    const unit = mapUnit(path);
    if (unit.layout.seqLen !== seqLen || unit.layout.lossDtype !== lossDtype) return null;
    return { documents: unit.layout.documents, tokens: unit.tokens };
  } catch {
    return null;
  }
}

export async function scoreCorpus(options: ScoreCorpusOptions): Promise<ScoreManifest> {
  checkOptions(options);
  const lock = lockOutput(options.outDir, "rho1 score");
  try {
    return await scoreLocked(options);
  } finally {
    lock.release();
  }
}

async function scoreLocked(options: ScoreCorpusOptions): Promise<ScoreManifest> {
  const { modelDir, outDir, batchSize } = options;
  const textColumn = options.textColumn ?? "text";
  const lossDtype = options.lossDtype ?? "f32";
  const jsonlUnitBytes = options.jsonlUnitBytes ?? DEFAULT_JSONL_UNIT_BYTES;
  const shard = options.shard && options.shard.count > 1 ? options.shard : null;
  const files = await planInputs(options.data, textColumn, jsonlUnitBytes);
  const tokenizer = options.tokenizer ?? (await loadCorpusTokenizer(options.tokenizerDir ?? modelDir));
  const config = modelConfig(modelDir);
  const modelVocab = config.vocabSize;
  const seqLen = options.seqLen ?? defaultSeqLen(config);
  if (tokenizer.vocabSize > modelVocab) {
    throw new ScoreError(
      "vocab_mismatch",
      `tokenizer of ${options.tokenizerDir ?? modelDir} has ${tokenizer.vocabSize} tokens, the model only ${modelVocab} (vocab_size): they do not belong together`,
      { file: join(modelDir, "config.json") },
    );
  }
  const bos = tokenizer.addBos && tokenizer.bosId !== null;
  const spec: ScoreSpec = {
    format: STORE_FORMAT,
    version: STORE_VERSION,
    unitFormatVersion: UNIT_VERSION,
    tokenizer: {
      hash: tokenizer.hash,
      vocabSize: tokenizer.vocabSize,
      bosId: tokenizer.bosId,
      eosId: tokenizer.eosId,
      padId: padIdOf(tokenizer),
    },
    model: { hash: await hashModelDir(modelDir), vocabSize: modelVocab },
    seqLen,
    batchSize,
    lossDtype,
    textColumn,
    packing: { bos, eos: tokenizer.eosId !== null, scope: "unit" },
    jsonlUnitBytes,
    sources: sourceEntries(files),
  };

  await mkdir(join(outDir, "units"), { recursive: true });
  const runPath = join(outDir, "run.json");
  const runJson = `${JSON.stringify({ spec, shard }, null, 2)}\n`;
  if (existsSync(join(outDir, "manifest.json"))) {
    const done = readManifest(outDir);
    const diff =
      specDifference(specOf(done), spec) ??
      (JSON.stringify(done.shard) !== JSON.stringify(shard) ? "shard" : null);
    if (diff)
      throw new ScoreError(
        "store_mismatch",
        `a finished store made with other settings is here (${diff}); use another --out`,
        { file: outDir },
      );
    await rm(runPath, { force: true });
    return done;
  }
  if (existsSync(runPath)) {
    const previous = readFileSync(runPath, "utf8");
    if (previous !== runJson) {
      const old = JSON.parse(previous) as { spec: ScoreSpec; shard: unknown };
      const diff = specDifference(old.spec, spec) ?? "shard";
      throw new ScoreError(
        "store_mismatch",
        `an unfinished run with other settings is here (${diff}); rerun it unchanged or use another --out`,
        { file: outDir },
      );
    }
  } else {
    writeFileAtomic(runPath, runJson);
  }
  removeStaleTemps(outDir);
  removeStaleTemps(join(outDir, "units"));

  const units = shard ? shardUnits(files, shard.index, shard.count) : files.flatMap((f) => f.units);
  const totalWeight = units.reduce((s, u) => s + u.weight, 0) || 1;
  // Units a killed run already wrote are taken as they are; the rate and ETA count only the rest.
  const alreadyDone = units.map((u) =>
    unitDone(join(outDir, unitFileName(u.fileIndex, u.index)), seqLen, lossDtype),
  );
  const runWeight = units.reduce((s, u, i) => s + (alreadyDone[i] ? 0 : u.weight), 0);
  const progressSink = options.progress === undefined ? stderrSink : options.progress;
  const reporter = new ProgressReporter(progressSink, options.progressIntervalMs);
  const totals = { unitsDone: 0, documents: 0, tokens: 0, weight: 0, tokensThisRun: 0, runWeight: 0 };
  const snapshot = (partialWeight = 0, partialTokens = 0) => ({
    unitsDone: totals.unitsDone,
    unitsTotal: units.length,
    documents: totals.documents,
    tokens: totals.tokens + partialTokens,
    fraction: (totals.weight + partialWeight) / totalWeight,
    tokensThisRun: totals.tokensThisRun,
    runFraction: runWeight > 0 ? (totals.runWeight + partialWeight) / runWeight : 1,
  });
  const resumedUnits = alreadyDone.filter(Boolean).length;
  if (resumedUnits > 0) {
    const tokens = alreadyDone.reduce((s, d) => s + (d?.tokens ?? 0), 0);
    progressSink?.(
      `score: resuming: ${resumedUnits} of ${units.length} units already scored (${tokens.toLocaleString("en-US")} tokens); tok/s and ETA count this run's work`,
      snapshot(),
    );
  }

  let scorer = options.scorer ?? null;
  const ownScorer = !scorer;
  try {
    for (const [u, unit] of units.entries()) {
      const path = join(outDir, unitFileName(unit.fileIndex, unit.index));
      const done = alreadyDone[u];
      if (!done) {
        scorer ??= await loadModelScorer(modelDir);
        let unitTokens = 0;
        const stats = await scoreUnit(files[unit.fileIndex], unit, path, {
          tokenizer,
          scorer,
          seqLen,
          batchSize,
          textColumn,
          lossDtype,
          bos,
          modelVocab: modelVocab ?? scorer.vocabSize,
          modelName: modelDir,
          timings: options.timings ?? { read: 0, tokenize: 0, model: 0, write: 0 },
          onBatch: (tokens, fraction) => {
            totals.tokensThisRun += tokens;
            unitTokens += tokens;
            reporter.update(snapshot(fraction * unit.weight, unitTokens));
          },
        });
        totals.documents += stats.documents;
        totals.tokens += stats.tokens;
        totals.runWeight += unit.weight;
      } else {
        totals.documents += done.documents;
        totals.tokens += done.tokens;
      }
      totals.unitsDone++;
      totals.weight += unit.weight;
      reporter.update(snapshot());
    }
  } finally {
    if (ownScorer) scorer?.dispose?.();
  }
  reporter.update(snapshot(), true);

  // An empty corpus is a mistake (a wrong path, an empty export), not a store: refuse it before the manifest, so
  // nothing downstream trains on zero sequences. A shard may be empty; `merge` checks the whole.
  if (!shard && totals.documents === 0) throw emptyInput(files);
  const manifest = await buildManifest(
    outDir,
    spec,
    units.map((u) => ({ file: u.fileIndex, index: u.index })),
    shard,
  );
  writeFileAtomic(join(outDir, "manifest.json"), manifestJson(manifest), {
    beforeRename: () => killPoint("manifest-tmp"),
  });
  killPoint("manifest-done");
  await rm(runPath, { force: true });
  return manifest;
}

interface UnitContext {
  tokenizer: CorpusTokenizer;
  scorer: TokenScorer;
  seqLen: number;
  batchSize: number;
  textColumn: string;
  lossDtype: LossDtype;
  bos: boolean;
  modelVocab: number | null;
  /** The model folder, for messages. */
  modelName: string;
  onBatch: (tokens: number, fraction: number) => void;
  timings: StageTimings;
}

async function scoreUnit(file: InputFile, unit: InputUnit, path: string, ctx: UnitContext) {
  const where = { file: file.path, rowGroup: unit.index };
  let t0 = performance.now();
  const texts = await readUnitTexts(file, unit, ctx.textColumn);
  ctx.timings.read += performance.now() - t0;
  t0 = performance.now();
  const packed = packDocuments(texts, ctx.tokenizer, { seqLen: ctx.seqLen, bos: ctx.bos });
  ctx.timings.tokenize += performance.now() - t0;
  if (ctx.modelVocab !== null && packed.maxId >= ctx.modelVocab) {
    throw new ScoreError(
      "vocab_mismatch",
      `token id ${packed.maxId} is outside the model's vocabulary (${ctx.modelVocab})`,
      where,
    );
  }
  const T = ctx.seqLen;
  const loss = new Float32Array(packed.numSequences * (T - 1));
  for (let s = 0; s < packed.numSequences; s += ctx.batchSize) {
    const batch = Math.min(ctx.batchSize, packed.numSequences - s);
    const ids = packed.ids.subarray(s * T, (s + batch) * T);
    const lengths = packed.lengths.subarray(s, s + batch);
    t0 = performance.now();
    const ce = await ctx.scorer.score(ids, lengths, batch, T);
    ctx.timings.model += performance.now() - t0;
    if (ce.length !== batch * (T - 1)) {
      throw new ScoreError(
        "model",
        `scorer returned ${ce.length} losses for ${batch} rows of ${T} tokens, expected ${batch * (T - 1)}`,
        where,
      );
    }
    // A NaN or Inf loss (NaN weights, an overflow) would be stored and later rank tokens for selection: stop at
    // the first one, before this unit is written, so the store stays unfinished.
    for (let i = 0; i < ce.length; i++) {
      if (!Number.isFinite(ce[i])) {
        const row = Math.floor(i / (T - 1));
        throw new ScoreError(
          "non_finite_loss",
          `reference loss ${ce[i]} at packed row ${s + row} of this unit, token ${(i % (T - 1)) + 1}: the model (${ctx.modelName}) gives non-finite losses; the store stays unfinished`,
          where,
        );
      }
    }
    loss.set(ce, s * (T - 1));
    let tokens = 0;
    for (let b = 0; b < batch; b++) tokens += lengths[b];
    killPoint("batch");
    ctx.onBatch(tokens, (s + batch) / packed.numSequences);
  }
  t0 = performance.now();
  writeFileAtomic(path, encodeUnit(packed, loss, ctx.lossDtype, texts.length), {
    beforeRename: () => killPoint("unit-tmp"),
  });
  ctx.timings.write += performance.now() - t0;
  killPoint("unit-done");
  return { documents: packed.numDocuments, tokens: packed.tokens };
}
