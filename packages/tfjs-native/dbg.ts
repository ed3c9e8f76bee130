import * as tf from "@tensorflow/tfjs-core";
import { registerNativeKernels, nativeStatus } from "./src/index.ts";
await tf.setBackend("cpu");
await registerNativeKernels();
console.log(nativeStatus().corename, nativeStatus().threads);
for (const [m, k, n] of [[1024,1024,1024],[2048,2048,2048],[2048,256,32000],[2048,256,768]]) {
  const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
  tf.matMul(a, b).dispose();
  const t0 = performance.now(); let reps = 0;
  while (performance.now() - t0 < 1500) { tf.matMul(a, b).dispose(); reps++; }
  const s = (performance.now() - t0) / 1000 / reps;
  console.log(m, k, n, (2 * m * k * n / s / 1e9).toFixed(1), "GFLOP/s", (s*1000).toFixed(1), "ms");
}
