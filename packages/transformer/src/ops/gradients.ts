/**
 * Autodiff for the contract kernels: each gradient runs the backend's backward kernel (contract.ts, *_GRAD), so a
 * backend registers kernels only and every backend shares these GradConfigs.
 */
import type { GradConfig, NamedAttrMap } from "@tensorflow/tfjs-core";
import { tf } from "../tf.ts";
import * as K from "./contract.ts";

function run(name: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs, attrs);
  return Array.isArray(out) ? out : [out];
}

export const contractGradients: GradConfig[] = [
  {
    kernelName: K.RMS_NORM,
    inputsToSave: ["x", "weight"],
    gradFunc: (dy, [x, weight], attrs) => {
      const [dx, dw] = run(K.RMS_NORM_GRAD, { dy: dy as tf.Tensor, x, weight }, attrs);
      return { x: () => dx, weight: () => dw };
    },
  },
  {
    kernelName: K.ROPE,
    inputsToSave: ["positions"],
    gradFunc: (dy, [positions], attrs) => {
      const [dx] = run(K.ROPE_GRAD, { dy: dy as tf.Tensor, positions }, attrs);
      return { x: () => dx, positions: () => tf.zerosLike(positions) };
    },
  },
  {
    kernelName: K.ATTENTION,
    inputsToSave: ["q", "k", "v", "keyMask"],
    gradFunc: (dy, [q, k, v, keyMask], attrs) => {
      const [dq, dk, dv] = run(K.ATTENTION_GRAD, { dy: dy as tf.Tensor, q, k, v, keyMask }, attrs);
      return { q: () => dq, k: () => dk, v: () => dv, keyMask: () => tf.zerosLike(keyMask) };
    },
  },
  {
    kernelName: K.SWIGLU,
    inputsToSave: ["gate", "up"],
    gradFunc: (dy, [gate, up]) => {
      const [dg, du] = run(K.SWIGLU_GRAD, { dy: dy as tf.Tensor, gate, up });
      return { gate: () => dg, up: () => du };
    },
  },
  {
    kernelName: K.CROSS_ENTROPY,
    inputsToSave: ["logits", "labels"],
    gradFunc: (dy, [logits, labels]) => {
      const [g] = run(K.CROSS_ENTROPY_GRAD, { dy: dy as tf.Tensor, logits, labels });
      return { logits: () => g, labels: () => tf.zerosLike(labels) };
    },
  },
  {
    kernelName: K.EMBEDDING,
    inputsToSave: ["table", "ids"],
    gradFunc: (dy, [table, ids]) => {
      const [g] = run(K.EMBEDDING_GRAD, { dy: dy as tf.Tensor, ids }, { vocabSize: table.shape[0] });
      return { table: () => g, ids: () => tf.zerosLike(ids) };
    },
  },
];

/** Registers the contract gradients (idempotent; identical for every backend). */
export function registerContractGradients(): void {
  for (const g of contractGradients) tf.registerGradient(g);
}
