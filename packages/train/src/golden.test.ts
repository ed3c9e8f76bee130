import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { openSafetensors } from "@rho1/safetensors";
import { CausalLM } from "@rho1/transformer";
import { AdamW } from "./adamw.ts";
import { clipGradNorm } from "./clip.ts";
import { batchGradients } from "./gradients.ts";

const FIXTURES = join(import.meta.dir, "../../../../shared/fixtures");
const MODEL = join(FIXTURES, "models/llama-gqa-f32");
const present = fixturesPresent(join(FIXTURES, "train/llama-gqa-f32.train.json"));
if (!present)
  console.warn(`skipping PyTorch golden training tests: ${FIXTURES} not found (../shared absent)`);

/** ‖a − b‖ / ‖b‖ */
function relNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

describe.skipIf(!present)("golden: SLM gradients and two AdamW steps vs PyTorch (llama-gqa-f32)", () => {
  for (const [scope, ratio] of [
    ["batch", "1.0"],
    ["batch", "0.6"],
    ["batch", "0.3"],
    ["sequence", "0.6"],
  ] as const) {
    test(`${scope} ratio ${ratio}`, async () => {
      const expected = openSafetensors(join(FIXTURES, "models/llama-gqa-f32.expected.safetensors"));
      const golden = openSafetensors(
        join(FIXTURES, `train/llama-gqa-f32.train_${scope}_ratio${ratio}.safetensors`),
      );
      const model = await CausalLM.load(MODEL);
      const [B, T] = expected.info("input_ids").shape as [number, number];
      const batch = {
        batch: B,
        time: T,
        ids: Int32Array.from(expected.readFloat32("input_ids")),
        mask: expected.readFloat32("attention_mask"),
        refLoss: golden.readFloat32("ref_loss"),
      };
      const opts = { ratio: Number(ratio), scope };
      const optimizer = new AdamW(model.variables, {
        lr: 1e-2,
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weightDecay: 0.1,
      });
      const worst = { grad: 0, after2: 0, after2Stable: 0, loss: 0, norm: 0 };
      for (let step = 0; step < 2; step++) {
        const r = await batchGradients(model, [batch], opts);
        expect(Array.from(r.selected[0] as Float32Array)).toEqual(
          Array.from(golden.readFloat32(`selected_step${step}`)),
        );
        const wantLoss = golden.readFloat32(`loss_step${step}`)[0] as number;
        const lossErr = Math.abs(r.loss - wantLoss) / wantLoss;
        expect(lossErr).toBeLessThan(step === 0 ? 1e-6 : 1e-5);
        const { grads, norm } = clipGradNorm(r.grads, 1.0);
        if (step === 0) {
          worst.loss = lossErr;
          const want = golden.readFloat32("grad_norm_step0")[0] as number;
          worst.norm = Math.abs(norm - want) / want;
          expect(worst.norm).toBeLessThan(1e-5);
          // The fixture stores p.grad as PyTorch leaves it after clip_grad_norm_ (scaled in place): compare clipped.
          for (const [name, g] of grads) {
            const err = relNorm(g.dataSync() as Float32Array, golden.readFloat32(`grad.${name}`));
            worst.grad = Math.max(worst.grad, err);
            expect(err).toBeLessThan(1e-4);
          }
          expect(grads.size).toBe(golden.names.filter((n) => n.startsWith("grad.")).length);
        }
        optimizer.step(grads);
        for (const g of grads.values()) g.dispose();
      }
      for (const [name, v] of model.variables) {
        const want = golden.readFloat32(`after2.${name}`);
        const got = v.dataSync() as Float32Array;
        const err = relNorm(got, want);
        worst.after2 = Math.max(worst.after2, err);
        // Adam's first update is g/(|g| + eps): for an element whose gradient is below ~10·eps (1e-7), float32
        // rounding of g (which differs between any two implementations, PyTorch's own runs included) decides the
        // update. Those elements are excluded from the 1e-5 check; the whole tensor is held to 1e-4.
        const g0 = golden.readFloat32(`grad.${name}`);
        const keep = (i: number) => !(Math.abs(g0[i] as number) > 0 && Math.abs(g0[i] as number) < 1e-7);
        const idx = [...want.keys()].filter(keep);
        const errStable = relNorm(
          idx.map((i) => got[i] as number),
          idx.map((i) => want[i] as number),
        );
        worst.after2Stable = Math.max(worst.after2Stable, errStable);
        expect(errStable).toBeLessThan(1e-5);
        expect(err).toBeLessThan(1e-4);
      }
      console.log(
        `golden ${scope} ${ratio}: loss rel ${worst.loss.toExponential(2)}, grad rel-norm max ${worst.grad.toExponential(2)}, ` +
          `norm rel ${worst.norm.toExponential(2)}, after2 rel-norm max ${worst.after2.toExponential(2)} (${worst.after2Stable.toExponential(2)} without |g0| < 1e-7 elements)`,
      );
      optimizer.dispose();
      model.dispose();
    });
  }
});
