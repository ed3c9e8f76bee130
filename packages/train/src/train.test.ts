import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScoreStore } from "@rho1/reference-scorer";
import { openSafetensors } from "@rho1/safetensors";
import { loadTokenizer } from "@rho1/tokenizer";
import { latestCheckpoint } from "./checkpoint.ts";
import { packText, scoredSource } from "./data.ts";
import { TrainError } from "./errors.ts";
import type { StepMetrics } from "./report.ts";
import { type TrainOptions, train } from "./train.ts";

const MODEL = join(import.meta.dir, "../../../models/stories260K");
const work = mkdtempSync(join(tmpdir(), "rho1-train-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const stories = [
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
  "Tom had a red ball. He liked to throw it to his dog, Max. Max was very happy.",
  "One day, a big bird flew into the garden. The bird was looking for food.",
  "Sue and her mom went to the store. They bought apples, milk and bread.",
  "The sun was hot. Ben wanted to swim in the lake with his friends.",
  "A little cat sat on the mat. It was sleepy and warm and soft.",
];
const data = join(work, "stories.jsonl");
writeFileSync(
  data,
  `${Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: stories[i % stories.length] })).join("\n")}\n`,
);

const base = (out: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  modelDir: MODEL,
  data: [data],
  outDir: join(work, out),
  seqLen: 16,
  batchSize: 2,
  gradAccum: 2,
  lr: 3e-3,
  warmup: 1,
  steps: 4,
  seed: 7,
  progress: null,
  ...extra,
});

const weights = (dir: string) => {
  const f = openSafetensors(join(dir, "model.safetensors"));
  const out = new Map(f.names.map((n) => [n, Float32Array.from(f.readFloat32(n))]));
  f.close();
  return out;
};
const metricsOf = (out: string) =>
  readFileSync(join(work, out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as StepMetrics);

describe("train (stories260K, causal LM)", () => {
  test("4 steps uninterrupted == 2 steps, crash, --resume 2 steps: same losses and final weights", async () => {
    const full = await train(base("full", { saveEvery: 2 }));
    expect(full.steps).toBe(4);
    expect(full.losses.length).toBe(4);
    expect(full.losses.every(Number.isFinite)).toBe(true);
    expect(new Set(full.losses).size).toBe(4); // four different batches, four different losses

    // Kill the second run right after step 3 began its bookkeeping: checkpoint-2 exists, step 3 is lost.
    const crash = base("resumed", {
      saveEvery: 2,
      onStep: (m) => {
        if (m.step === 3) throw new Error("simulated crash");
      },
    });
    await expect(train(crash)).rejects.toThrow("simulated crash");
    expect(latestCheckpoint(join(work, "resumed"))).toEndWith("checkpoint-2");
    const resumed = await train(base("resumed", { saveEvery: 2, resume: true }));
    expect(resumed.startStep).toBe(2);
    expect(resumed.steps).toBe(4);
    expect(resumed.losses).toEqual(full.losses.slice(2));

    const a = weights(join(work, "full", "checkpoint-4"));
    const b = weights(join(work, "resumed", "checkpoint-4"));
    for (const [name, w] of a) expect(b.get(name)).toEqual(w);
    const initial = weights(MODEL);
    expect(a.get("model.norm.weight")).not.toEqual(initial.get("model.norm.weight")); // training moved the weights
    expect(metricsOf("resumed").map((m) => m.loss)).toEqual(metricsOf("full").map((m) => m.loss));

    const m = metricsOf("full");
    expect(m.map((x) => x.step)).toEqual([1, 2, 3, 4]);
    expect(m[0]?.lr).toBeCloseTo(3e-3, 12); // warm-up 1: step 0 already at the peak
    expect(m[3]?.lr).toBeCloseTo(3e-4, 12); // cosine down to min-lr (lr / 10) at the last step
    // Plain causal LM selects nothing: its lines carry no selection fields.
    expect(Object.keys(m[0] as object)).toEqual([
      "step",
      "epoch",
      "lr",
      "loss",
      "tokens",
      "tokens_per_s",
      "grad_norm",
    ]);
    expect(m[0]?.grad_norm).toBeGreaterThan(0);
    const html = readFileSync(join(work, "full", "loss-curves.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).toContain("all tokens");
    expect(html).not.toContain("selected tokens"); // plain causal LM: one curve
    for (const panel of ["Loss", "Learning rate", "Gradient norm", "Throughput", "all tokens (raw)"])
      expect(html).toContain(panel);
    expect(html).toMatch(/<path d="M[^"]+" fill="none"/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    for (const f of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "optimizer.safetensors",
      "trainer_state.json",
    ]) {
      expect(existsSync(join(work, "full", "checkpoint-2", f))).toBe(true);
    }
  }, 60_000);

  test("a NaN/Inf loss stops the run naming the step and batch; the last good checkpoint stays", async () => {
    const opts = base("nan", { lr: 1e30, warmup: 0, saveEvery: 1, steps: 6 });
    let error: unknown;
    try {
      await train(opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^step \d+: (loss is (NaN|-?Infinity) on micro-batch \d \(sequences [\d,]+\)|gradient norm)/,
    );
    const failed = Number(/^step (\d+)/.exec(message)?.[1]);
    const last = latestCheckpoint(join(work, "nan")) as string;
    expect(last).toEndWith(`checkpoint-${failed - 1}`);
    expect(message).toContain(last);
    expect(JSON.parse(readFileSync(join(last, "trainer_state.json"), "utf8")).global_step).toBe(failed - 1);
  }, 60_000);

  test("selective LM with a reference model keeps the top ratio of tokens", async () => {
    const summary = await train(
      base("slm", { refModelDir: MODEL, selectRatio: 0.5, steps: 2, gradAccum: 1 }),
    );
    const m = metricsOf("slm");
    const first = m[0] as StepMetrics;
    expect(first.selected_tokens).toBe(Math.floor(0.5 * first.tokens));
    expect(first.loss_unselected).not.toBeNull();
    expect(summary.selectedTokens).toBe(m[1]?.selected_tokens as number);
  }, 60_000);

  test("bad options are refused", async () => {
    await expect(train(base("bad1", { selectRatio: 0.5 }))).rejects.toThrow(
      /needs --ref-scores or --ref-model/,
    );
    await expect(train(base("bad2", { batchSize: 0 }))).rejects.toThrow(
      /--batch-size must be an integer >= 1/,
    );
    await expect(train(base("bad3", { data: [join(work, "missing.jsonl")] }))).rejects.toThrow(
      /no such file/,
    );
    await expect(train(base("full"))).rejects.toThrow(/already holds checkpoint-4: pass --resume/);
    // The batch is the sequences per step (2 × grad-accum 2), however split into micro-batches or ranks.
    await expect(train(base("full", { resume: true, batchSize: 3 }))).rejects.toThrow(
      /resuming from checkpoint-4: batchSequences was 4, now 6/,
    );
    const bad = join(work, "bad.jsonl");
    writeFileSync(bad, '{"text": "ok"}\n{"txt": 1}\n');
    await expect(train(base("bad4", { data: [bad] }))).rejects.toThrow(
      /bad.jsonl: line 2 has no field 'text'/,
    );
  }, 60_000);
});

describe("train from a score store (@rho1/reference-scorer)", () => {
  const scores = join(work, "scores");
  const ready = (async () => {
    const { scoreCorpus } = await import("@rho1/reference-scorer");
    await scoreCorpus({
      modelDir: MODEL,
      data: [data],
      outDir: scores,
      seqLen: 16,
      batchSize: 4,
      progress: null,
    });
  })();

  test("text packing matches the scorer's, and SLM trains on the stored reference losses", async () => {
    await ready;
    const { ScoreStore } = await import("@rho1/reference-scorer");
    const { loadTokenizer } = await import("@rho1/tokenizer");
    const store = ScoreStore.open(scores);
    const text = await packText([data], await loadTokenizer(MODEL), 16);
    expect(text.numSequences).toBe(store.numSequences);
    for (let i = 0; i < store.numSequences; i++) {
      expect(Array.from(text.sequence(i).ids)).toEqual(Array.from(store.sequence(i).ids));
      expect(Array.from(text.sequence(i).valid)).toEqual(Array.from(store.sequence(i).valid));
    }
    text.close?.();
    const summary = await train(
      base("scored", {
        refScores: scores,
        selectRatio: 0.6,
        selectScope: "sequence",
        steps: 2,
        seqLen: undefined,
      }),
    );
    expect(summary.steps).toBe(2);
    const first = metricsOf("scored")[0] as StepMetrics;
    expect(first.selected_tokens).toBeGreaterThanOrEqual(Math.floor(0.6 * first.tokens) - 4); // per row: floor each
    expect(first.selected_tokens).toBeLessThan(first.tokens);
  }, 60_000);

  test("parquet text packs exactly like the same documents in JSON lines", async () => {
    const { writeOwmParquet } = await import("@rho1/reference-scorer");
    const { loadTokenizer } = await import("@rho1/tokenizer");
    const rows = readFileSync(data, "utf8")
      .trim()
      .split("\n")
      .map((l, i) => ({ url: `u${i}`, text: JSON.parse(l).text as string, date: "", metadata: "{}" }));
    const parquet = join(work, "stories.parquet");
    await writeOwmParquet(rows, parquet, { codec: "ZSTD", rowGroupSize: 5 });
    const tokenizer = await loadTokenizer(MODEL);
    const a = await packText([data], tokenizer, 32);
    const b = await packText([parquet], tokenizer, 32);
    expect(b.numSequences).toBe(a.numSequences);
    for (let i = 0; i < a.numSequences; i++)
      expect(Array.from(b.sequence(i).ids)).toEqual(Array.from(a.sequence(i).ids));
    a.close?.();
    b.close?.();
    await expect(packText([parquet], tokenizer, 32, "body")).rejects.toThrow(
      /stories.parquet: no column 'body' \(columns: url, text, date, metadata\)/,
    );
  });

  test("a store made from other data, sequence length or tokenizer is refused", async () => {
    await ready;
    await expect(train(base("mismatch1", { refScores: scores, seqLen: 8 }))).rejects.toThrow(
      /sequence length 16, --seq-len asks for 8/,
    );
    const other = join(work, "other.jsonl");
    writeFileSync(other, '{"text": "A different corpus."}\n');
    await expect(train(base("mismatch2", { refScores: scores, data: [other] }))).rejects.toThrow(
      /scored corpus \[stories.jsonl \(\d+ B\)\] differs from --data \[other.jsonl/,
    );
    const fake = {
      manifest: { tokenizer: { hash: "ab".repeat(32) }, seqLen: 16, sources: [] },
      numSequences: 0,
      sequence: () => {
        throw new Error("unused");
      },
    };
    await expect(
      scoredSource(fake as unknown as ScoreStore, "fake", { tokenizerHash: "cd".repeat(32), data: [] }),
    ).rejects.toThrow(/scored with tokenizer abababababab…, the model's is cdcdcdcdcdcd…/);
  }, 60_000);
});

describe("packText", () => {
  test("null and blank texts are skipped and counted, as the scorer does; empty input is 'no documents'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rho1-jsonl-"));
    const file = join(dir, "nulls.jsonl");
    writeFileSync(file, '{"text":"a"}\n{"text":null}\n{"text":"  "}\n{"text":"b"}\n');
    const tokenizer = await loadTokenizer(MODEL);
    const source = await packText([file], tokenizer, 8);
    expect(source.skippedDocuments).toBe(2);
    source.close?.();
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    await expect(packText([empty], tokenizer, 8)).rejects.toThrow(
      `no documents in ${empty} (empty files, or only empty or null texts)`,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("train: Trainer-style evaluation, checkpoints and resume", () => {
  const heldOut = join(work, "heldout.jsonl");
  writeFileSync(
    heldOut,
    `${JSON.stringify({ text: "The little dog ran to the park with a red ball." })}\n${JSON.stringify({ text: "Lily and her mom bought bread." })}\n`,
  );
  const trainerState = (dir: string) => JSON.parse(readFileSync(join(dir, "trainer_state.json"), "utf8"));

  test("every token spill file (training and --eval-data) is closed when a run ends, finished or refused", async () => {
    // The spill files are unlinked at once: an fd left open holds its disk space until the process exits.
    const openSpills = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes(".tmp-tokens-");
        } catch {
          return false; // the fd readdir itself used, closed since
        }
      }).length;
    expect(openSpills()).toBe(0);
    await train(base("spill-closed", { steps: 2, evalData: [heldOut], evalEvery: 1 }));
    expect(openSpills()).toBe(0);
    // Refused after both inputs were packed: the folder already holds a checkpoint and --resume was not given.
    await expect(train(base("spill-closed", { steps: 2, evalData: [heldOut] }))).rejects.toThrow(
      /already holds checkpoint-2/,
    );
    expect(openSpills()).toBe(0);
  }, 60_000);

  test("--eval-data, --save-total-limit 2, --load-best-model-at-end; resume from a chosen checkpoint and extend", async () => {
    const evals: number[] = [];
    const opts = base("hf", {
      steps: 6,
      saveEvery: 2,
      evalData: [heldOut],
      saveTotalLimit: 2,
      loadBestModelAtEnd: true,
      onEval: (m) => evals.push(m.eval_loss),
    });
    const summary = await train(opts);
    const out = join(work, "hf");
    expect(evals).toHaveLength(3); // steps 2, 4, 6: every checkpoint evaluates
    const bestStep = 2 * (evals.indexOf(Math.min(...evals)) + 1);
    expect(summary.bestMetric).toBe(Math.min(...evals));
    expect(summary.bestCheckpoint).toBe(join(out, `checkpoint-${bestStep}`));
    // At most two checkpoints stay: the newest and the best (Trainer's rotation keeps the best).
    const kept = ["checkpoint-2", "checkpoint-4", "checkpoint-6"].filter((c) => existsSync(join(out, c)));
    expect(kept).toContain("checkpoint-6");
    expect(kept).toContain(`checkpoint-${bestStep}`);
    expect(kept.length).toBeLessThanOrEqual(2);

    const state = trainerState(join(out, "checkpoint-6"));
    expect(state.global_step).toBe(6);
    expect(state.max_steps).toBe(6);
    expect(state.best_metric).toBe(Math.min(...evals));
    expect(state.best_global_step).toBe(bestStep);
    expect(state.best_model_checkpoint).toBe(join(out, `checkpoint-${bestStep}`));
    const trainLogs = state.log_history.filter((e: Record<string, number>) => "loss" in e);
    const evalLogs = state.log_history.filter((e: Record<string, number>) => "eval_loss" in e);
    expect(trainLogs.map((e: Record<string, number>) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evalLogs.map((e: Record<string, number>) => e.eval_loss)).toEqual(evals);
    expect(Object.keys(trainLogs[0]).sort()).toEqual(
      ["epoch", "grad_norm", "learning_rate", "loss", "num_input_tokens_seen", "step"].sort(),
    );
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => "eval_loss" in l).map((l) => l.eval_loss)).toEqual(evals);
    expect(readFileSync(join(out, "loss-curves.html"), "utf8")).toContain("held-out (eval_loss)");

    // The final model is the best checkpoint's weights, without optimizer state.
    expect(existsSync(join(out, "final", "optimizer.safetensors"))).toBe(false);
    expect(weights(join(out, "final")).get("model.norm.weight")).toEqual(
      weights(join(out, `checkpoint-${bestStep}`)).get("model.norm.weight"),
    );

    // Resume from checkpoint-6 and extend the run to 8 steps: the schedule is recomputed and said so.
    const said: string[] = [];
    const sink = { write: (s: string) => said.push(s), isTTY: false } as unknown as NodeJS.WriteStream;
    const extended = await train({
      ...opts,
      steps: 8,
      onEval: undefined,
      resumeFromCheckpoint: join(out, "checkpoint-6"),
      progress: sink,
    });
    expect(extended.startStep).toBe(6);
    expect(extended.steps).toBe(8);
    expect(extended.extendedFrom).toBe(6);
    expect(said.join("")).toContain("steps 6 -> 8: the learning-rate schedule is recomputed");
    expect(trainerState(join(out, "checkpoint-8")).max_steps).toBe(8);
  }, 120_000);

  test("--epochs sets the steps and the epoch boundary is said", async () => {
    const said: string[] = [];
    const sink = { write: (s: string) => said.push(s), isTTY: false } as unknown as NodeJS.WriteStream;
    // 12 stories of 16-token sequences; 4 sequences per step.
    const summary = await train(base("epochs", { steps: undefined, epochs: 2, progress: sink }));
    expect(summary.epochs).toBeGreaterThanOrEqual(1);
    expect(said.join("")).toMatch(/epoch 1 done during step \d+/);
    const m = metricsOf("epochs");
    expect(m.at(-1)?.epoch).toBeGreaterThanOrEqual(1.99);
  }, 60_000);

  test("Trainer options are checked", async () => {
    await expect(train(base("bad-best", { loadBestModelAtEnd: true }))).rejects.toThrow(/needs --eval-data/);
    await expect(
      train(base("bad-mult", { loadBestModelAtEnd: true, evalData: [heldOut], saveEvery: 3, evalEvery: 2 })),
    ).rejects.toThrow(/multiple of --eval-every/);
    await expect(train(base("bad-beta", { beta2: 1 }))).rejects.toThrow(/must be below 1/);
  });
});
