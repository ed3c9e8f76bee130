import { tf } from "../tf.ts";
import { SWIGLU } from "./contract.ts";
import { hasKernel, runKernel } from "./kernel.ts";

/** silu(gate) · up, the Llama MLP's gating. */
export function swiglu<T extends tf.Tensor>(gate: T, up: T): T {
  if (hasKernel(SWIGLU)) return runKernel<T>(SWIGLU, { gate, up });
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as T);
}
