/**
 * The kernel contract of @rho1/transformer (ops/contract.ts) in WGSL for tfjs-backend-webgpu, forward and backward.
 * Semantics follow the composites in packages/transformer/src/ops/*.ts; the gradients are the contract's shared
 * GradConfigs (ops/gradients.ts), which call the *_GRAD kernels registered here.
 *
 * Written by hand because tfjs-webgpu has no fused versions: its composites materialise the T×T attention matrix,
 * a B×T×V softmax and a one-hot for the cross-entropy gradient, and read back to the host for the embedding
 * gradient. Matmuls stay tfjs-webgpu's own.
 */
import { ops, type RopeScaling } from "@rho1/transformer";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import * as tf from "@tensorflow/tfjs-core";
import { f32, flatGroups, i32, type ProgramSpec, run, sizeOf, type Uniform, view } from "./program.ts";

const K = ops;
type Inputs = Record<string, TensorInfo>;
type Fn = (inputs: Inputs, backend: WebGPUBackend, attrs: NamedAttrMap) => TensorInfo | TensorInfo[];

/** The kernels below, each registered under its contract name where it is defined. */
const kernelTable: [string, Fn][] = [];
function kernel(name: string, fn: Fn): void {
  kernelTable.push([name, fn]);
}

/** Bad shapes or dtypes reaching a WebGPU kernel. */
export class WebGPUKernelError extends Error {
  constructor(
    readonly kernel: string,
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${kernel}: ${field} must be ${expected}, found ${found}`);
    this.name = "WebGPUKernelError";
  }
}

function expectShape(kernel: string, field: string, t: TensorInfo, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new WebGPUKernelError(kernel, field, `shape [${shape}]`, `[${t.shape}]`);
}

function expectDtype(kernel: string, field: string, t: TensorInfo, dtype: string): void {
  if (t.dtype !== dtype) throw new WebGPUKernelError(kernel, field, dtype, t.dtype);
}

/** Elementwise work: 256 invocations per workgroup. Row reductions: one workgroup of 128 per row. */
const FLAT = 256;
const ROW = 128;

/** Frees intermediate results (the backend defers buffer reuse until submitted work is done). */
function free(backend: WebGPUBackend, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/** A scalar uniform of `runFlat`. */
const int = (v: number): Uniform => ({ type: "int32", data: [v] });
const float = (v: number): Uniform => ({ type: "float32", data: [v] });

/**
 * Runs a flat program over `n` outputs: `body` assigns `result[index]`, reading each of `inputs` under its key (its
 * WGSL name) and each of `uniforms` as `uniforms.<key>`.
 */
function runFlat(
  backend: WebGPUBackend,
  key: string,
  n: number,
  body: string,
  inputs: Record<string, TensorInfo>,
  uniforms: Record<string, Uniform> = {},
): TensorInfo {
  const declared = Object.entries(uniforms)
    .map(([name, u]) => `${name} : ${u.type === "int32" ? "i32" : "f32"},`)
    .join(" ");
  const spec = flat(key, Object.keys(inputs), n, body, declared || undefined);
  return run(backend, spec, Object.values(inputs), Object.values(uniforms));
}

/** Flat elementwise program over `n` outputs; `body` assigns `result[index]`. */
function flat(key: string, inputs: string[], n: number, body: string, uniforms?: string): ProgramSpec {
  return {
    key,
    inputs,
    outputShape: [n],
    workgroups: flatGroups(n, FLAT),
    workgroupSize: FLAT,
    uniforms,
    code: `
      fn main(index: i32) {
        if (index >= uniforms.outShape) { return; }
        ${body}
      }`,
  };
}

/**
 * WGSL: stores this lane's `value` in `partial` and folds the workgroup's ROW lanes into partial[0] with
 * `combine` (a tree: ROW/2, ROW/4, ... lanes), ending on a barrier so every lane may read partial[0].
 */
function workgroupReduce(value: string, combine: (a: string, b: string) => string): string {
  return `partial[lane] = ${value};
        workgroupBarrier();
        for (var stride = ${ROW / 2}; stride > 0; stride >>= 1) {
          if (lane < stride) { partial[lane] = ${combine("partial[lane]", "partial[lane + stride]")}; }
          workgroupBarrier();
        }`;
}

/**
 * One workgroup of ROW lanes per output row: `width` is the row length (`let`-bound under `widthName`), `base` the
 * row's first element, `lane` this lane; `body` computes, then lane 0 of each real row runs `finish`.
 */
function workgroupPerRow(
  key: string,
  inputs: string[],
  rows: number,
  width: { name: string; expr: string },
  body: string,
  finish: string,
  uniforms?: string,
): ProgramSpec {
  return {
    key,
    inputs,
    outputShape: [rows],
    workgroups: rows,
    workgroupSize: ROW,
    uniforms,
    code: `
      var<workgroup> partial: array<f32, ${ROW}>;
      fn main(index: i32) {
        let lane = i32(localIndex);
        let rows = uniforms.outShape;
        let ${width.name} = ${width.expr};
        let row = min(index / ${ROW}, rows - 1);
        let base = row * ${width.name};
        ${body}
        if (lane == 0 && index / ${ROW} < rows) {
          ${finish}
        }
      }`,
  };
}

/**
 * One workgroup per row of a [rows, cols] input: `term` (an f32 expression of `j`, the column, and `base`, the row's
 * first element) is summed over the row; `finish` writes `result[row]` from `total`.
 */
function rowSum(
  key: string,
  inputs: string[],
  rows: number,
  term: string,
  finish: string,
  uniforms?: string,
): ProgramSpec {
  return workgroupPerRow(
    key,
    inputs,
    rows,
    { name: "cols", expr: "uniforms.cols" },
    `var s = 0.0;
        for (var j = lane; j < cols; j += ${ROW}) { s += ${term}; }
        ${workgroupReduce("s", (a, b) => `${a} + ${b}`)}`,
    `let total = partial[0];
          ${finish}`,
    uniforms,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// RMSNorm: y = x · r · w, r = 1 / sqrt(mean(x²) + eps).

function rmsInverse(
  backend: WebGPUBackend,
  x: TensorInfo,
  rows: number,
  cols: number,
  eps: number,
): TensorInfo {
  const spec = rowSum(
    "rms_r",
    ["X"],
    rows,
    "X[base + j] * X[base + j]",
    "result[row] = 1.0 / sqrt(total / f32(cols) + uniforms.eps);",
    "cols : i32, eps : f32,",
  );
  return run(backend, spec, [view(x, [rows, cols])], [...i32(cols), ...f32(eps)]);
}

/** What the forward and the gradient share: x as [rows, cols] over its last axis, and r per row. */
function rmsRows(
  backend: WebGPUBackend,
  x: TensorInfo,
  weight: TensorInfo,
  name: string,
  attrs: NamedAttrMap,
) {
  const cols = x.shape[x.shape.length - 1];
  expectShape(name, "weight", weight, [cols]);
  const rows = sizeOf(x.shape) / cols;
  const r = rmsInverse(backend, x, rows, cols, attrs.eps as number);
  /** One invocation per element of [rows·cols], with `cols` as a uniform. */
  const perElement = (key: string, body: string, inputs: Record<string, TensorInfo>) =>
    runFlat(backend, key, rows * cols, body, inputs, { cols: int(cols) });
  return { cols, rows, r, perElement };
}

kernel(K.RMS_NORM, ({ x, weight }, backend, attrs) => {
  const { cols, rows, r, perElement } = rmsRows(backend, x, weight, K.RMS_NORM, attrs);
  const y = perElement(
    "rms_y",
    "result[index] = X[index] * R[index / uniforms.cols] * W[index % uniforms.cols];",
    { X: view(x, [rows * cols]), R: r, W: weight },
  );
  free(backend, r);
  return view(y, x.shape);
});

kernel(K.RMS_NORM_GRAD, ({ dy, x, weight }, backend, attrs) => {
  const { cols, rows, r, perElement } = rmsRows(backend, x, weight, K.RMS_NORM_GRAD, attrs);
  // s[row] = Σ_k dy·w·x; dx = r·w·dy − x · r³ · s / H.
  const s = run(
    backend,
    rowSum(
      "rms_s",
      ["DY", "X", "W"],
      rows,
      "DY[base + j] * W[j] * X[base + j]",
      "result[row] = total;",
      "cols : i32,",
    ),
    [view(dy, [rows, cols]), view(x, [rows, cols]), weight],
    i32(cols),
  );
  const dx = perElement(
    "rms_dx",
    `let row = index / uniforms.cols;
       let r = R[row];
       result[index] = r * W[index % uniforms.cols] * DY[index] - X[index] * r * r * r * S[row] / f32(uniforms.cols);`,
    { DY: view(dy, [rows * cols]), X: view(x, [rows * cols]), W: weight, R: r, S: s },
  );
  // dw[j] = Σ_rows dy·x·r: one invocation per column, reading down the rows (adjacent invocations, adjacent columns).
  const dw = runFlat(
    backend,
    "rms_dw",
    cols,
    `var s = 0.0;
       for (var row = 0; row < uniforms.rows; row++) {
         let at = row * uniforms.outShape + index;
         s += DY[at] * X[at] * R[row];
       }
       result[index] = s;`,
    { DY: view(dy, [rows * cols]), X: view(x, [rows * cols]), R: r },
    { rows: int(rows) },
  );
  free(backend, r, s);
  return [view(dx, x.shape), dw];
});

// ---------------------------------------------------------------------------------------------------------------
// RoPE (rotate_half): y = x·cos + rotate_half(x)·sin; the gradient is the same with −sin.

const inverseFrequencyCache = new Map<string, Float32Array>();

function inverseFrequencies(theta: number, d: number, scaling: RopeScaling | null): Float32Array {
  const key = `${theta}|${d}|${JSON.stringify(scaling)}`;
  let inv = inverseFrequencyCache.get(key);
  if (!inv) {
    inv = Float32Array.from(K.inverseFrequencies(theta, d, scaling));
    inverseFrequencyCache.set(key, inv);
  }
  return inv;
}

function rotate(
  backend: WebGPUBackend,
  x: TensorInfo,
  positions: TensorInfo,
  attrs: NamedAttrMap,
  sign: 1 | -1,
  name: string,
): TensorInfo {
  if (x.shape.length !== 4) throw new WebGPUKernelError(name, "x", "[B, T, heads, D]", `[${x.shape}]`);
  const [b, t, heads, d] = x.shape;
  expectShape(name, "positions", positions, [b, t]);
  expectDtype(name, "positions", positions, "int32");
  const inv = backend.makeTensorInfo(
    [d / 2],
    "float32",
    inverseFrequencies(attrs.theta as number, d, (attrs.scaling ?? null) as unknown as RopeScaling | null),
  );
  // The angle p·f is rounded to f32 as in PyTorch; it is reduced modulo 2π with 2π split in two (6.28125 is exact
  // in 9 bits) so that cos/sin see an argument in [−π, π], where GPU implementations are accurate.
  const y = runFlat(
    backend,
    `rope${sign}`,
    b * t * heads * d,
    `let d = uniforms.d;
       let half = d / 2;
       let c = index % d;
       let i = c % half;
       let row = index / (uniforms.heads * d);
       let a = f32(P[row]) * F[i];
       let k = round(a * 0.15915494309189535);
       let r = (a - k * 6.28125) - k * 0.0019353071795864769;
       let cs = cos(r);
       let sn = ${sign === 1 ? "sin(r)" : "-sin(r)"};
       var rotated: f32;
       if (c < half) { rotated = -X[index + half]; } else { rotated = X[index - half]; }
       result[index] = X[index] * cs + rotated * sn;`,
    { X: view(x, [sizeOf(x.shape)]), P: view(positions, [b * t]), F: inv },
    { d: int(d), heads: int(heads) },
  );
  free(backend, inv);
  return view(y, x.shape);
}

kernel(K.ROPE, ({ x, positions }, backend, attrs) => rotate(backend, x, positions, attrs, 1, K.ROPE));
kernel(K.ROPE_GRAD, ({ dy, positions }, backend, attrs) => [
  rotate(backend, dy, positions, attrs, -1, K.ROPE_GRAD),
]);

// ---------------------------------------------------------------------------------------------------------------
// Causal GQA attention, flash-style: a workgroup takes QB query rows of one (batch, head) and walks the keys in
// tiles staged in workgroup memory, with an online softmax. Nothing T×T is ever stored.

const QB = 32;
const ATTN_GRAD_INPUTS = ["Q", "K", "V", "M", "DO", "L", "DD"] as const;

interface AttnDims {
  b: number;
  tq: number;
  tk: number;
  nh: number;
  nkv: number;
  d: number;
}

function attnDims(name: string, { q, k, v, keyMask }: Inputs): AttnDims {
  if (q.shape.length !== 4) throw new WebGPUKernelError(name, "q", "[B, Tq, heads, D]", `[${q.shape}]`);
  const [b, tq, nh, d] = q.shape;
  if (k.shape.length !== 4 || k.shape[0] !== b || k.shape[3] !== d)
    throw new WebGPUKernelError(name, "k", `[${b}, Tk, kvHeads, ${d}]`, `[${k.shape}]`);
  const [, tk, nkv] = k.shape;
  expectShape(name, "v", v, k.shape);
  expectShape(name, "keyMask", keyMask, [b, tk]);
  if (nh % nkv !== 0) throw new WebGPUKernelError(name, "k", `a head count dividing ${nh}`, `${nkv}`);
  if (d > 256) throw new WebGPUKernelError(name, "q", "head dim <= 256", `${d}`);
  return { b, tq, nh, nkv, tk, d };
}

/** Keys per tile: two tiles of KT·D floats must fit in 16 KiB of workgroup memory (the WebGPU default limit). */
const keyTile = (d: number) => Math.max(4, Math.min(32, Math.floor(2048 / d)));

/**
 * The query-row walk over key tiles shared by the forward ("out"), the log-sum-exp ("lse") and the dq ("dq") passes.
 * Inputs Q, K, V, M (key mask); "dq" also reads DO (output gradient), L (lse) and DD (rowsum(dO·O)).
 * M is read through f32(): tfjs-webgpu's Cast from int32 to float32 relabels the int32 buffer without converting it,
 * so a key mask made from an int32 attention mask arrives as array<i32>.
 */
function attentionWalk(mode: "out" | "lse" | "dq", dims: AttnDims): ProgramSpec {
  const { b, tq, nh, nkv, d } = dims;
  const kt = keyTile(d);
  const group = nh / nkv;
  // A binding the shader never reads is dropped from the pipeline layout, so each pass names only what it reads.
  const inputs =
    mode === "dq" ? [...ATTN_GRAD_INPUTS] : mode === "out" ? ["Q", "K", "V", "M"] : ["Q", "K", "M"];
  const qBlocks = Math.ceil(tq / QB);
  const outputShape = mode === "lse" ? [b, nh, tq] : [b, tq, nh, d];
  const needV = mode !== "lse";
  const perKey =
    mode === "out"
      ? `if (s > mx) {
           let c = exp(mx - s);
           l *= c;
           for (var e = 0; e < D; e++) { acc[e] *= c; }
           mx = s;
         }
         let p = exp(s - mx);
         l += p;
         for (var e = 0; e < D; e++) { acc[e] += p * vTile[jj * D + e]; }`
      : mode === "lse"
        ? `if (s > mx) { l *= exp(mx - s); mx = s; }
           l += exp(s - mx);`
        : `let p = exp(s - lse);
           var dp = 0.0;
           for (var e = 0; e < D; e++) { dp += dout[e] * vTile[jj * D + e]; }
           let ds = p * (dp - dd) * uniforms.scale;
           for (var e = 0; e < D; e++) { acc[e] += ds * kTile[jj * D + e]; }`;
  const finish =
    mode === "out"
      ? `let inv = select(0.0, 1.0 / l, l > 0.0);
         for (var e = 0; e < D; e++) { result[qBase + e] = acc[e] * inv; }`
      : mode === "lse"
        ? "result[(bb * H + h) * Tq + i] = select(0.0, mx + log(l), l > 0.0);"
        : "for (var e = 0; e < D; e++) { result[qBase + e] = acc[e]; }";
  return {
    key: `attn_${mode}_${d}_${group}`,
    inputs,
    outputShape,
    workgroups: b * nh * qBlocks,
    workgroupSize: QB,
    uniforms: "scale : f32, queryOffset : i32,",
    code: `
      const D = ${d};
      const KT = ${kt};
      const QB = ${QB};
      const GROUP = ${group};
      var<workgroup> kTile: array<f32, ${kt * d}>;
      ${needV ? `var<workgroup> vTile: array<f32, ${kt * d}>;` : ""}
      var<workgroup> mTile: array<f32, ${kt}>;
      var<workgroup> keyLimit: i32;
      fn main(index: i32) {
        let lane = i32(localIndex);
        let B = uniforms.qShape.x;
        let Tq = uniforms.qShape.y;
        let H = uniforms.qShape.z;
        let Tk = uniforms.kShape.y;
        let Hk = uniforms.kShape.z;
        let qBlocks = (Tq + QB - 1) / QB;
        let wg = index / QB;
        let qb = wg % qBlocks;
        let h = (wg / qBlocks) % H;
        let b = wg / (qBlocks * H);
        let bb = min(b, B - 1);
        let i0 = qb * QB + lane;
        let live = b < B && i0 < Tq;
        let i = min(i0, Tq - 1);
        let kvh = h / GROUP;
        let pos = i + uniforms.queryOffset;
        if (lane == 0) { keyLimit = min(Tk, qb * QB + QB + uniforms.queryOffset); }
        let limit = workgroupUniformLoad(&keyLimit);
        let qBase = ((bb * Tq + i) * H + h) * D;
        var q: array<f32, D>;
        var acc: array<f32, D>;
        ${mode === "dq" ? "var dout: array<f32, D>;" : ""}
        for (var e = 0; e < D; e++) {
          q[e] = Q[qBase + e];
          acc[e] = 0.0;
          ${mode === "dq" ? "dout[e] = DO[qBase + e];" : ""}
        }
        ${mode === "dq" ? "let lse = L[(bb * H + h) * Tq + i]; let dd = DD[(bb * Tq + i) * H + h];" : ""}
        var mx = -3.0e38;
        var l = 0.0;
        for (var t0 = 0; t0 < limit; t0 += KT) {
          workgroupBarrier();
          for (var e = lane; e < KT * D; e += QB) {
            let j = t0 + e / D;
            var kv = 0.0;
            ${needV ? "var vv = 0.0;" : ""}
            if (j < Tk) {
              let at = ((bb * Tk + j) * Hk + kvh) * D + e % D;
              kv = K[at];
              ${needV ? "vv = V[at];" : ""}
            }
            kTile[e] = kv;
            ${needV ? "vTile[e] = vv;" : ""}
          }
          for (var e = lane; e < KT; e += QB) {
            let j = t0 + e;
            mTile[e] = select(0.0, f32(M[bb * Tk + min(j, Tk - 1)]), j < Tk);
          }
          workgroupBarrier();
          for (var jj = 0; jj < KT; jj++) {
            let j = t0 + jj;
            if (j <= pos && j < Tk && mTile[jj] != 0.0) {
              var dot = 0.0;
              for (var e = 0; e < D; e++) { dot += q[e] * kTile[jj * D + e]; }
              let s = dot * uniforms.scale;
              ${perKey}
            }
          }
        }
        if (live) {
          ${finish}
        }
      }`,
  };
}

/**
 * dk or dv for one key row of one KV head per invocation: walks the query rows that see the key (all heads of its
 * group), recomputing p = exp(s − lse). Reads Q, K, V, M, DO, L, DD.
 */
function attentionKeyPass(mode: "dk" | "dv", dims: AttnDims): ProgramSpec {
  const { b, tk, nh, nkv, d } = dims;
  const group = nh / nkv;
  const n = b * tk * nkv;
  const update =
    mode === "dv"
      ? "for (var e = 0; e < D; e++) { acc[e] += p * DO[qAt + e]; }"
      : `var dp = 0.0;
         for (var e = 0; e < D; e++) { dp += DO[qAt + e] * vrow[e]; }
         let ds = p * (dp - DD[(b * Tq + i) * H + h]) * uniforms.scale;
         for (var e = 0; e < D; e++) { acc[e] += ds * Q[qAt + e]; }`;
  return {
    key: `attn_${mode}_${d}_${group}`,
    inputs: mode === "dk" ? [...ATTN_GRAD_INPUTS] : ATTN_GRAD_INPUTS.filter((x) => x !== "DD"),
    outputShape: [b, tk, nkv, d],
    workgroups: flatGroups(n, 64),
    workgroupSize: 64,
    uniforms: "scale : f32, queryOffset : i32,",
    code: `
      const D = ${d};
      const GROUP = ${group};
      fn main(index: i32) {
        let B = uniforms.qShape.x;
        let Tq = uniforms.qShape.y;
        let H = uniforms.qShape.z;
        let Tk = uniforms.kShape.y;
        let Hk = uniforms.kShape.z;
        if (index >= B * Tk * Hk) { return; }
        let kvh = index % Hk;
        let j = (index / Hk) % Tk;
        let b = index / (Hk * Tk);
        let kBase = index * D;
        var acc: array<f32, D>;
        var krow: array<f32, D>;
        var vrow: array<f32, D>;
        for (var e = 0; e < D; e++) { acc[e] = 0.0; krow[e] = K[kBase + e]; vrow[e] = V[kBase + e]; }
        if (f32(M[b * Tk + j]) != 0.0) {
          for (var i = max(0, j - uniforms.queryOffset); i < Tq; i++) {
            for (var g = 0; g < GROUP; g++) {
              let h = kvh * GROUP + g;
              let qAt = ((b * Tq + i) * H + h) * D;
              var dot = 0.0;
              for (var e = 0; e < D; e++) { dot += Q[qAt + e] * krow[e]; }
              let p = exp(dot * uniforms.scale - L[(b * H + h) * Tq + i]);
              ${update}
            }
          }
        }
        for (var e = 0; e < D; e++) { result[kBase + e] = acc[e]; }
      }`,
  };
}

function attentionUniforms(attrs: NamedAttrMap) {
  return [...f32(attrs.scale as number), ...i32(attrs.queryOffset as number)];
}

kernel(K.ATTENTION, (inputs, backend, attrs) => {
  const dims = attnDims(K.ATTENTION, inputs);
  const { q, k, v, keyMask } = inputs;
  return run(backend, attentionWalk("out", dims), [q, k, v, keyMask], attentionUniforms(attrs));
});

kernel(K.ATTENTION_GRAD, (inputs, backend, attrs) => {
  const dims = attnDims(K.ATTENTION_GRAD, inputs);
  const { dy, q, k, v, keyMask } = inputs;
  expectShape(K.ATTENTION_GRAD, "dy", dy, q.shape);
  const u = attentionUniforms(attrs);
  const base = [q, k, v, keyMask];
  const out = run(backend, attentionWalk("out", dims), base, u);
  const lse = run(backend, attentionWalk("lse", dims), [q, k, keyMask], u);
  const { b, tq, nh, d } = dims;
  const rows = b * tq * nh;
  // dd[b, i, h] = Σ_e dO·O (the softmax gradient's row term).
  const dd = runFlat(
    backend,
    `attn_dd_${d}`,
    rows,
    `var s = 0.0;
       for (var e = 0; e < ${d}; e++) { s += DO[index * ${d} + e] * O[index * ${d} + e]; }
       result[index] = s;`,
    { DO: view(dy, [rows * d]), O: view(out, [rows * d]) },
  );
  const all = [...base, dy, lse, dd];
  const dq = run(backend, attentionWalk("dq", dims), all, u);
  const dk = run(backend, attentionKeyPass("dk", dims), all, u);
  const dv = run(backend, attentionKeyPass("dv", dims), all.slice(0, 6), u);
  free(backend, out, lse, dd);
  return [dq, dk, dv];
});

// ---------------------------------------------------------------------------------------------------------------
// SwiGLU: silu(g)·u.

kernel(K.SWIGLU, ({ gate, up }, backend) => {
  expectShape(K.SWIGLU, "up", up, gate.shape);
  const n = sizeOf(gate.shape);
  const y = runFlat(
    backend,
    "swiglu",
    n,
    "let g = G[index]; result[index] = g * (1.0 / (1.0 + exp(-g))) * U[index];",
    { G: view(gate, [n]), U: view(up, [n]) },
  );
  return view(y, gate.shape);
});

kernel(K.SWIGLU_GRAD, ({ dy, gate, up }, backend) => {
  const n = sizeOf(gate.shape);
  const ins = { DY: view(dy, [n]), G: view(gate, [n]), U: view(up, [n]) };
  const dg = runFlat(
    backend,
    "swiglu_dg",
    n,
    "let g = G[index]; let s = 1.0 / (1.0 + exp(-g)); result[index] = DY[index] * U[index] * s * (1.0 + g * (1.0 - s));",
    ins,
  );
  const du = runFlat(
    backend,
    "swiglu_du",
    n,
    "let g = G[index]; result[index] = DY[index] * g * (1.0 / (1.0 + exp(-g)));",
    { DY: ins.DY, G: ins.G },
  );
  return [view(dg, gate.shape), view(du, gate.shape)];
});

// ---------------------------------------------------------------------------------------------------------------
// Cross-entropy over the vocabulary: one workgroup per row (max, then Σexp); the gradient recomputes the row's
// log-sum-exp instead of keeping an N×V softmax.

function logSumExp(key: string, inputs: string[], rows: number, finish: string): ProgramSpec {
  return workgroupPerRow(
    key,
    inputs,
    rows,
    { name: "V", expr: "uniforms.xShape.y" },
    `var m = -3.0e38;
        for (var j = lane; j < V; j += ${ROW}) { m = max(m, X[base + j]); }
        ${workgroupReduce("m", (a, b) => `max(${a}, ${b})`)}
        let mx = partial[0];
        workgroupBarrier();
        var s = 0.0;
        for (var j = lane; j < V; j += ${ROW}) { s += exp(X[base + j] - mx); }
        ${workgroupReduce("s", (a, b) => `${a} + ${b}`)}`,
    `let lse = log(partial[0]);
          ${finish}`,
  );
}

function ceShapes(name: string, logits: TensorInfo, labels: TensorInfo): [number, number] {
  if (logits.shape.length !== 2) throw new WebGPUKernelError(name, "logits", "[N, V]", `[${logits.shape}]`);
  const [n, vocab] = logits.shape;
  expectShape(name, "labels", labels, [n]);
  expectDtype(name, "labels", labels, "int32");
  return [n, vocab];
}

kernel(K.CROSS_ENTROPY, ({ logits, labels }, backend) => {
  const [n] = ceShapes(K.CROSS_ENTROPY, logits, labels);
  // ce = log Σ exp(x − max) − (x[label] − max), as the composite; 0 for a label outside [0, V).
  return run(
    backend,
    logSumExp(
      "ce",
      ["X", "Y"],
      n,
      `let y = Y[row];
       result[row] = select(0.0, lse - (X[base + clamp(y, 0, V - 1)] - mx), y >= 0 && y < V);`,
    ),
    [logits, labels],
  );
});

kernel(K.CROSS_ENTROPY_GRAD, ({ dy, logits, labels }, backend) => {
  const [n, vocab] = ceShapes(K.CROSS_ENTROPY_GRAD, logits, labels);
  expectShape(K.CROSS_ENTROPY_GRAD, "dy", dy, [n]);
  const lse = run(backend, logSumExp("ce_lse", ["X"], n, "result[row] = mx + lse;"), [logits]);
  const g = runFlat(
    backend,
    "ce_grad",
    n * vocab,
    `let row = index / uniforms.vocab;
       let c = index % uniforms.vocab;
       let y = Y[row];
       let p = exp(X[index] - LSE[row]) - select(0.0, 1.0, c == y);
       result[index] = select(0.0, p * DY[row], y >= 0 && y < uniforms.vocab);`,
    { X: view(logits, [n * vocab]), Y: labels, DY: dy, LSE: lse },
    { vocab: int(vocab) },
  );
  free(backend, lse);
  return [view(g, [n, vocab])];
});

// ---------------------------------------------------------------------------------------------------------------
// Embedding: a gather, and its gradient as an unsorted segment sum (tfjs-webgpu's atomic scatter-add).

kernel(K.EMBEDDING, ({ table, ids }, backend) => {
  if (table.shape.length !== 2)
    throw new WebGPUKernelError(K.EMBEDDING, "table", "[V, H]", `[${table.shape}]`);
  expectDtype(K.EMBEDDING, "ids", ids, "int32");
  const [vocab, hidden] = table.shape;
  const n = sizeOf(ids.shape);
  const y = runFlat(
    backend,
    "embed",
    n * hidden,
    `let id = clamp(I[index / uniforms.hidden], 0, uniforms.vocab - 1);
       result[index] = T[id * uniforms.hidden + index % uniforms.hidden];`,
    { T: view(table, [vocab * hidden]), I: view(ids, [n]) },
    { hidden: int(hidden), vocab: int(vocab) },
  );
  return view(y, [...ids.shape, hidden]);
});

kernel(K.EMBEDDING_GRAD, ({ dy, ids }, backend, attrs) => {
  const vocabSize = attrs.vocabSize as number;
  const hidden = dy.shape[dy.shape.length - 1];
  const n = sizeOf(ids.shape);
  expectShape(K.EMBEDDING_GRAD, "dy", dy, [...ids.shape, hidden]);
  const segmentSum = tf.getKernel(tf.UnsortedSegmentSum, "webgpu")?.kernelFunc as KernelFunc;
  const g = segmentSum({
    inputs: { x: view(dy, [n, hidden]), segmentIds: view(ids, [n]) },
    backend,
    attrs: { numSegments: vocabSize },
  }) as TensorInfo;
  return [g];
});

// ---------------------------------------------------------------------------------------------------------------
// AdamW (PyTorch's single-tensor path), in the composite's operation order (packages/train/src/adamw.ts).

kernel(K.ADAMW, ({ param, grad, m, v }, backend, attrs) => {
  const { lr, beta1, beta2, eps, weightDecay, step } = attrs as Record<string, number>;
  const n = sizeOf(param.shape);
  for (const [field, t] of Object.entries({ grad, m, v })) expectShape(K.ADAMW, field, t, param.shape);
  const flatView = (t: TensorInfo) => view(t, [n]);
  const m2 = runFlat(
    backend,
    "adamw_m",
    n,
    "result[index] = M[index] + (G[index] - M[index]) * uniforms.c;",
    { M: flatView(m), G: flatView(grad) },
    { c: float(1 - beta1) },
  );
  const v2 = runFlat(
    backend,
    "adamw_v",
    n,
    "let g = G[index]; result[index] = V[index] * uniforms.b2 + g * g * uniforms.c;",
    { V: flatView(v), G: flatView(grad) },
    { b2: float(beta2), c: float(1 - beta2) },
  );
  const bc1 = 1 - beta1 ** step;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const p2 = runFlat(
    backend,
    "adamw_p",
    n,
    `let denom = sqrt(V2[index]) / uniforms.bc2 + uniforms.eps;
       result[index] = P[index] * uniforms.decay + (M2[index] / denom) * uniforms.stepSize;`,
    { P: flatView(param), M2: m2, V2: v2 },
    { decay: float(1 - lr * weightDecay), bc2: float(bc2Sqrt), eps: float(eps), stepSize: float(-lr / bc1) },
  );
  return [view(p2, param.shape), view(m2, param.shape), view(v2, param.shape)];
});

// ---------------------------------------------------------------------------------------------------------------

export const webgpuKernels: KernelConfig[] = kernelTable.map(([kernelName, fn]) => ({
  kernelName,
  backendName: "webgpu",
  kernelFunc: ({ inputs, backend, attrs }) => fn(inputs as Inputs, backend as WebGPUBackend, attrs ?? {}),
}));

let registered = false;

/** Registers the fused kernels into the `webgpu` backend and the contract's gradients. Idempotent. */
export function registerWebGPUKernels(): void {
  if (registered) return;
  for (const k of webgpuKernels) {
    if (tf.getKernel(k.kernelName, "webgpu")) tf.unregisterKernel(k.kernelName, "webgpu");
    tf.registerKernel(k);
  }
  K.registerContractGradients();
  registered = true;
}

/** Removes them again (tests compare against the composites). */
export function unregisterWebGPUKernels(): void {
  for (const k of webgpuKernels)
    if (tf.getKernel(k.kernelName, "webgpu")) tf.unregisterKernel(k.kernelName, "webgpu");
  registered = false;
}
