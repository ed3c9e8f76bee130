/**
 * examples/pytorch_slm.py reads `rho1 score export`'s parquet and computes the SLM loss of a batch in PyTorch. Its
 * committed output (pytorch_slm.out.json) must equal rho1's own SLM loss on the same batch within 1e-5: this test
 * reruns the commands in the script's docstring, computes the loss with @rho1/selective-loss, and, where Debian's
 * python3-torch and python3-zstandard are installed, reruns the script itself.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ScoreStore } from "@rho1/reference-scorer";
import { selectiveLoss } from "@rho1/selective-loss";
import { CausalLM, tf } from "@rho1/transformer";

const ROOT = resolve(import.meta.dir, "..");
const BASE = join(ROOT, "models/stories260K");
const SAMPLE = join(ROOT, "data/corpus/owm-sample.parquet");
const committed = JSON.parse(readFileSync(join(import.meta.dir, "pytorch_slm.out.json"), "utf8"));
let dir: string;

const rho1 = (...args: string[]) => {
  const proc = Bun.spawnSync(["bun", "packages/cli/src/main.ts", ...args], { cwd: ROOT });
  if (proc.exitCode !== 0) throw new Error(`rho1 ${args.join(" ")}: ${proc.stderr.toString()}`);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rho1-pytorch-slm-"));
  rho1(
    "train",
    "--model",
    BASE,
    "--data",
    SAMPLE,
    "--seq-len",
    "128",
    "--steps",
    "20",
    "--lr",
    "1e-3",
    "--out",
    join(dir, "ref"),
  );
  const checkpoint = readdirSync(join(dir, "ref"))
    .filter((n) => /^checkpoint-0*20$/.test(n))
    .map((n) => join(dir, "ref", n))[0];
  rho1("score", "--model", checkpoint, "--data", SAMPLE, "--seq-len", "128", "--out", join(dir, "scores"));
  rho1(
    "score",
    "export",
    "--scores",
    join(dir, "scores"),
    "--format",
    "parquet",
    "--out",
    join(dir, "scores.parquet"),
  );
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("rho1's SLM loss on the batch equals the committed PyTorch output within 1e-5", async () => {
  const store = ScoreStore.open(join(dir, "scores"));
  const rows = committed.rows as number;
  const T = store.seqLen;
  const ids = new Int32Array(rows * T);
  const ref = new Float32Array(rows * (T - 1));
  const valid = new Float32Array(rows * (T - 1));
  for (let r = 0; r < rows; r++) {
    const seq = store.sequence(r);
    ids.set(seq.ids, r * T);
    ref.set(seq.refLoss, r * (T - 1));
    valid.set(seq.valid, r * (T - 1));
  }
  const model = await CausalLM.load(BASE);
  const input = tf.tensor2d(ids, [rows, T], "int32");
  const ce = tf.tidy(() => model.tokenLosses(input as tf.Tensor2D).ce) as tf.Tensor2D;
  const validT = tf.tensor2d(valid, [rows, T - 1]);
  const { loss, selected, stats } = selectiveLoss({
    ce,
    refLoss: ref,
    valid: validT,
    ratio: committed.ratio,
  });
  const value = (await loss.data())[0];
  expect(stats.nValid).toBe(committed.valid);
  expect(stats.nSelected).toBe(committed.selected);
  expect(Math.abs(value - committed.slm_loss)).toBeLessThan(1e-5);
  // a shifted store (reference losses one position late) gives another loss: the comparison can fail
  const shifted = new Float32Array(ref.length);
  shifted.set(ref.subarray(0, ref.length - 1), 1);
  const off = selectiveLoss({ ce, refLoss: shifted, valid: validT, ratio: committed.ratio });
  expect(Math.abs((await off.loss.data())[0] - committed.slm_loss)).toBeGreaterThan(1e-3);
  tf.dispose([input, ce, validT, loss, selected, off.loss, off.selected]);
  model.dispose();
});

const python = Bun.spawnSync(["/usr/bin/python3", "-c", "import torch, zstandard"]).exitCode === 0;
test.skipIf(!python)(
  "the PyTorch script reproduces its committed output (needs python3-torch, python3-zstandard)",
  () => {
    const proc = Bun.spawnSync(
      [
        "/usr/bin/python3",
        "examples/pytorch_slm.py",
        join(dir, "scores.parquet"),
        BASE,
        "--batch",
        String(committed.rows),
      ],
      { cwd: ROOT },
    );
    expect(proc.stderr.toString()).toBe("");
    const out = JSON.parse(proc.stdout.toString());
    expect(out.selected).toBe(committed.selected);
    expect(Math.abs(out.slm_loss - committed.slm_loss)).toBeLessThan(1e-5);
  },
);
