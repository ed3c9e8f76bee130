import { expect, test } from "bun:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import "./index.ts";

test("registers tfjs-core's gradients: softmax, mul and sum differentiate to the analytic values", async () => {
  await tf.setBackend("cpu");
  for (const kernel of ["Softmax", "Multiply", "Sum", "GatherV2", "BatchMatMul", "LogSoftmax"])
    expect(tf.getGradient(kernel)?.kernelName).toBe(kernel);
  const x = tf.variable(tf.tensor1d([1, 2, 3]), true, "gradients-test-x");
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.softmax(x), x)) as tf.Scalar);
  // f(x) = sum softmax(x)_i x_i; df/dx_j = p_j (1 + x_j - f).
  const p = [1, 2, 3].map((v) => Math.exp(v) / (Math.E + Math.E ** 2 + Math.E ** 3));
  const f = p.reduce((acc, pi, i) => acc + pi * (i + 1), 0);
  expect(value.dataSync()[0]).toBeCloseTo(f, 5);
  const dx = Array.from(grads["gradients-test-x"]?.dataSync() ?? []);
  expect(dx.length).toBe(3);
  for (const [j, d] of dx.entries()) expect(d).toBeCloseTo((p[j] as number) * (1 + (j + 1) - f), 5);
  tf.dispose([x, value, ...Object.values(grads)]);
});
