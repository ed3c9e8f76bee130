import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliCommand, tempDir } from "./test-support.ts";

const work = tempDir("rho1-cli-train-");

const rho1 = cliCommand("train");

const data = join(work, "d.jsonl");
writeFileSync(
  data,
  '{"text": "Once upon a time, there was a little girl named Lily."}\n{"text": "Tom had a red ball."}\n',
);

test("plain causal-LM run on the embedded model writes checkpoints, metrics and the loss page", () => {
  const out = join(work, "out");
  const r = rho1(
    "--model",
    "models/stories260K",
    "--data",
    data,
    "--out",
    out,
    "--seq-len",
    "16",
    "--batch-size",
    "2",
    "--steps",
    "2",
  );
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("step 2/2");
  expect(r.stderr).toMatch(
    /rho1 train: 2 steps \(from 0\); last step: loss \d+\.\d+ \(all tokens\); \d+ tokens/,
  );
  expect(r.stderr).not.toContain("selected"); // plain causal LM: no selection in the progress or the summary
  expect(r.stderr).not.toContain("final loss");
  const lines = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines.map((m) => m.step)).toEqual([1, 2]);
  expect(existsSync(join(out, "checkpoint-2", "model.safetensors"))).toBe(true);
  expect(existsSync(join(out, "final", "model.safetensors"))).toBe(true);
  expect(existsSync(join(out, "final", "optimizer.safetensors"))).toBe(false);
  expect(existsSync(join(out, "loss-curves.html"))).toBe(true);
}, 60_000);

test("--config (YAML, Trainer names with _), command line overrides it, args.json reproduces the run", () => {
  const config = join(work, "run.yaml");
  writeFileSync(
    config,
    [
      "model_name_or_path: models/stories260K",
      `data: [${JSON.stringify(data)}]`,
      "max_seq_length: 16",
      "per_device_train_batch_size: 2",
      "learning_rate: 1.0e-3",
      "max_steps: 5",
      "adam_beta2: 0.99",
      "warmup_ratio: 0.5",
      "",
    ].join("\n"),
  );
  const first = join(work, "cfg-a");
  const r = rho1("--config", config, "--max-steps", "2", "--out", first);
  expect(r.code).toBe(0);
  const args = JSON.parse(readFileSync(join(first, "args.json"), "utf8"));
  expect(args).toMatchObject({
    model: "models/stories260K",
    data: [data],
    "seq-len": 16,
    "batch-size": 2,
    lr: 0.001,
    steps: 2, // the command line won over the file's 5
    "adam-beta2": 0.99,
    "warmup-ratio": 0.5,
  });
  expect(args.config).toBeUndefined();
  const second = join(work, "cfg-b");
  const again = rho1("--config", join(first, "args.json"), "--out", second);
  expect(again.code).toBe(0);
  const losses = (dir: string) =>
    readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((m) => [m.step, m.lr, m.loss]);
  expect(losses(second)).toEqual(losses(first));
  expect(losses(first)[0]?.[1]).toBeCloseTo(1e-3, 12); // warm-up ratio 0.5 of 2 steps = 1 step: the peak at step 1
}, 60_000);

test("a bad config file exits 1 naming the file and key", () => {
  const bad = join(work, "bad.json");
  writeFileSync(bad, JSON.stringify({ model: "m", learning_rat: 1 }));
  const r = rho1("--config", bad);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${bad}: unknown option "learning_rat" (did you mean "learning-rate"?)`);
  writeFileSync(bad, "{not json");
  expect(rho1("--config", bad).code).toBe(1);
  expect(rho1("--config", join(work, "missing.yaml")).code).toBe(1);
}, 30_000);

test("usage errors exit 2 with one line", () => {
  for (const [args, message] of [
    [["--data", data, "--out", "x"], /missing required option --model/],
    [["--model", "m", "--out", "x"], /missing required option --data/],
    [
      ["--model", "m", "--data", data, "--out", "x", "--select-ratio", "0.5"],
      /needs --ref-scores or --ref-model/,
    ],
    [
      ["--model", "m", "--data", data, "--out", "x", "--select-scope", "row"],
      /--select-scope expects batch or sequence/,
    ],
    [
      ["--model", "m", "--data", data, "--out", "x", "--batch-size", "0"],
      /--batch-size expects an integer >= 1/,
    ],
    [["--model", "m", "--data", data, "--out", "x", "--ref-scores", "a", "--ref-model", "b"], /not both/],
    [
      ["--model", "m", "--data", data, "--out", "x", "--weight-decay-exclude", "norms,layernorm"],
      /--weight-decay-exclude expects a comma-separated subset of norms,embeddings,bias, found "layernorm"/,
    ],
    [["--model", "m", "--data", data, "--out", "x", "--learning-rat", "1"], /did you mean --learning-rate\?/],
    [["--model", "m", "--data", data, "--out", "x", "--stpes", "1"], /did you mean --steps\?/],
    [
      ["--model", "m", "--data", data, "--out", "x", "--report-to", "tensorboard"],
      /no maintained npm package/,
    ],
    [["--model", "m", "--data", data, "--out", "x", "--load-best-model-at-end"], /needs --eval-data/],
    [["--model", "m", "--data", data, "--out", "x", "--adam-beta1", "1"], /--adam-beta1 expects a number/],
  ] as const) {
    const r = rho1(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }
}, 60_000);

test("--config with --eval-data, --save-total-limit 2, --load-best-model-at-end; resume from a chosen checkpoint", () => {
  const evalData = join(work, "eval.jsonl");
  writeFileSync(evalData, '{"text": "Lily and Tom played with the red ball in the park."}\n');
  const config = join(work, "best.json");
  writeFileSync(
    config,
    JSON.stringify({
      model: "models/stories260K",
      data: [data],
      seq_len: 16,
      batch_size: 2,
      learning_rate: 1e-3,
      max_steps: 6,
      save_steps: 2,
      eval_data: [evalData],
      save_total_limit: 2,
      load_best_model_at_end: true,
      metric_for_best_model: "eval_loss",
    }),
  );
  const out = join(work, "best");
  const r = rho1("--config", config, "--out", out);
  expect(r.code).toBe(0);
  const state = JSON.parse(readFileSync(join(out, "checkpoint-6", "trainer_state.json"), "utf8"));
  expect(state.global_step).toBe(6);
  const evals = (state.log_history as { step: number; eval_loss?: number }[]).filter(
    (h) => h.eval_loss !== undefined,
  );
  expect(evals.map((h) => h.step)).toEqual([2, 4, 6]);
  const best = evals.reduce((a, b) => ((b.eval_loss as number) < (a.eval_loss as number) ? b : a));
  expect(state.best_metric).toBeCloseTo(best.eval_loss as number, 12);
  expect(state.best_model_checkpoint).toContain(`checkpoint-${best.step}`);
  // at most two checkpoints kept: the newest and the best
  const kept = ["checkpoint-2", "checkpoint-4", "checkpoint-6"].filter((c) => existsSync(join(out, c)));
  expect(kept.length).toBeLessThanOrEqual(2);
  expect(kept).toContain("checkpoint-6");
  expect(kept).toContain(`checkpoint-${best.step}`);
  // final/ holds the best checkpoint's weights
  const weights = (dir: string) => readFileSync(join(dir, "model.safetensors"));
  expect(weights(join(out, "final")).equals(weights(join(out, `checkpoint-${best.step}`)))).toBe(true);

  // Resume a copy of the run from the chosen (kept) checkpoint, extended to 8 steps: the log continues from there.
  const again = rho1(
    "--config",
    config,
    "--out",
    out,
    "--resume-from-checkpoint",
    join(out, "checkpoint-6"),
    "--max-steps",
    "8",
  );
  expect(again.code).toBe(0);
  const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((m) => m.loss !== undefined)
    .map((m) => m.step);
  expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(existsSync(join(out, "checkpoint-8"))).toBe(true);
}, 120_000);
