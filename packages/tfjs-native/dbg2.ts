import { loadNative } from "./src/loader.ts";
const lib = await loadNative();
const s = lib.symbols;
const m = 2048, k = 256, n = 32000;
const a = new Float32Array(m * k).map(() => Math.random()), b = new Float32Array(k * n).map(() => Math.random());
const c = new Float32Array(m * n);
for (let r = 0; r < 3; r++) {
  let t0 = performance.now();
  s.rho1_sgemm_batched(0, 0, m, n, k, a, b, c, 1, null, null);
  const t1 = performance.now();
  const fresh = new Float32Array(m * n);
  const t2 = performance.now();
  s.rho1_sgemm_batched(0, 0, m, n, k, a, b, fresh, 1, null, null);
  const t3 = performance.now();
  console.log("reuse", (t1 - t0).toFixed(0), "ms", (2*m*n*k/(t1-t0)/1e6).toFixed(1), "GF; alloc", (t2-t1).toFixed(0), "fresh sgemm", (t3-t2).toFixed(0));
}
