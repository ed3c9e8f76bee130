/**
 * The contract kernels (RMSNorm, RoPE, attention, SwiGLU, cross-entropy, embedding, AdamW) and their backward kernels,
 * as tfjs KernelConfigs for the `cpu` backend over the compiled C library (autodiff reaches the backward kernels
 * through the contract's shared gradients). Semantics follow packages/transformer/src/ops/*.ts exactly.
 */

import { Rho1Error } from "@rho1/io";
import type { RopeScaling } from "@rho1/transformer";
import type { KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { type CpuBackend, f32, i32, output, sizeOf } from "./backend.ts";
import type { NativeSymbols } from "./loader.ts";
import * as K from "./names.ts";
import { take, takeZeroed } from "./pool.ts";
import { cachedInverseFrequencies } from "./rope.ts";

/** Bad shapes or dtypes reaching a native kernel. */
export class NativeKernelError extends Rho1Error {
  override name = "NativeKernelError";
  constructor(
    readonly kernel: string,
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super("bad_kernel_input", `${kernel}: ${field} must be ${expected}, found ${found}`, {
      kernel,
      field,
      expected,
      found,
    });
  }
}

type Inputs = Record<string, TensorInfo>;

interface AdamWAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  inPlace?: boolean;
}

function expectRank(kernel: string, field: string, t: TensorInfo, rank: number): void {
  if (t.shape.length !== rank)
    throw new NativeKernelError(kernel, field, `rank ${rank}`, `shape [${t.shape}]`);
}

function expectSame(kernel: string, field: string, t: TensorInfo, like: readonly number[]): void {
  if (t.shape.length !== like.length || t.shape.some((d, i) => d !== like[i])) {
    throw new NativeKernelError(kernel, field, `shape [${like}]`, `[${t.shape}]`);
  }
}

function kernel(
  name: string,
  fn: (inputs: Inputs, backend: CpuBackend, attrs: NamedAttrMap) => TensorInfo | TensorInfo[],
): KernelConfig {
  return {
    kernelName: name,
    backendName: "cpu",
    kernelFunc: ({ inputs, backend, attrs }) => fn(inputs as Inputs, backend as CpuBackend, attrs ?? {}),
  };
}

/** Row logsumexps from the cross-entropy forward, keyed by the logits' dataId (freed with it). */
const lseCache = new WeakMap<object, { labels: object; lse: Float32Array }>();

/** Arrays allocated by the AdamW kernel: the only ones its inPlace mode may overwrite. */
const adamwArrays = new WeakSet<Float32Array>();

export function contractKernels(lib: NativeSymbols): KernelConfig[] {
  const rmsDims = (name: string, x: TensorInfo, w: TensorInfo) => {
    const h = x.shape[x.shape.length - 1] ?? 0;
    if (w.shape.length !== 1 || w.shape[0] !== h)
      throw new NativeKernelError(name, "weight", `shape [${h}]`, `[${w.shape}]`);
    return { h, rows: h > 0 ? sizeOf(x.shape) / h : 0 };
  };
  const ropeDims = (name: string, x: TensorInfo, positions: TensorInfo) => {
    expectRank(name, "x", x, 4);
    const [b, t, nh, d] = x.shape;
    expectSame(name, "positions", positions, [b, t]);
    if (d % 2 !== 0) throw new NativeKernelError(name, "x", "an even head dimension", `${d}`);
    return { rows: b * t, nh, d };
  };
  const attnDims = (name: string, inputs: Inputs, attrs: NamedAttrMap) => {
    const { q, k, v, keyMask } = inputs;
    const { scale, queryOffset } = attrs as { scale?: number; queryOffset?: number };
    if (!Number.isFinite(scale))
      throw new NativeKernelError(name, "attrs.scale", "a finite number", `${scale}`);
    if (!Number.isInteger(queryOffset ?? 0) || (queryOffset ?? 0) < 0) {
      throw new NativeKernelError(name, "attrs.queryOffset", "an integer >= 0", `${queryOffset}`);
    }
    expectRank(name, "q", q, 4);
    expectRank(name, "k", k, 4);
    const [b, tq, nh, d] = q.shape;
    const [, tk, nkv] = k.shape;
    expectSame(name, "k", k, [b, tk, nkv, d]);
    expectSame(name, "v", v, [b, tk, nkv, d]);
    expectSame(name, "keyMask", keyMask, [b, tk]);
    if (nkv === 0 || nh % nkv !== 0)
      throw new NativeKernelError(name, "k", `a KV head count dividing ${nh}`, `${nkv}`);
    // The arguments the forward and backward C functions share: the inputs before the outputs, the sizes after.
    const tensors = (backend: CpuBackend) =>
      [f32(backend, q), f32(backend, k), f32(backend, v), f32(backend, keyMask)] as const;
    const sizes = [b, tq, tk, nh, nkv, d, scale as number, queryOffset ?? 0] as const;
    return { b, tq, tk, nh, nkv, d, tensors, sizes };
  };
  const rope = (name: string, inverse: number) =>
    kernel(name, ({ x, positions, dy }, backend, attrs) => {
      const src = name === K.ROPE ? x : dy;
      const { rows, nh, d } = ropeDims(name, src, positions);
      const { theta, scaling } = attrs as unknown as { theta: number; scaling: RopeScaling | null };
      if (!(theta > 0)) throw new NativeKernelError(name, "attrs.theta", "a positive number", `${theta}`);
      const out = take(sizeOf(src.shape));
      if (out.length > 0) {
        const inv = cachedInverseFrequencies(theta, d, scaling ?? null);
        lib.rho1_rope(f32(backend, src), i32(backend, positions), inv, out, rows, nh, d, inverse);
      }
      return output(backend, [...src.shape], out);
    });

  return [
    kernel(K.RMS_NORM, ({ x, weight }, backend, attrs) => {
      const { h, rows } = rmsDims(K.RMS_NORM, x, weight);
      const y = take(sizeOf(x.shape));
      if (y.length > 0)
        lib.rho1_rmsnorm_fwd(f32(backend, x), f32(backend, weight), y, rows, h, attrs.eps as number);
      return output(backend, [...x.shape], y);
    }),
    kernel(K.RMS_NORM_GRAD, ({ dy, x, weight }, backend, attrs) => {
      const { h, rows } = rmsDims(K.RMS_NORM_GRAD, x, weight);
      expectSame(K.RMS_NORM_GRAD, "dy", dy, x.shape);
      const dx = take(sizeOf(x.shape));
      const dw = new Float32Array(h);
      if (dx.length > 0) {
        lib.rho1_rmsnorm_bwd(
          f32(backend, dy),
          f32(backend, x),
          f32(backend, weight),
          dx,
          dw,
          rows,
          h,
          attrs.eps as number,
        );
      }
      return [output(backend, [...x.shape], dx), output(backend, [h], dw)];
    }),
    rope(K.ROPE, 0),
    rope(K.ROPE_GRAD, 1),
    kernel(K.ATTENTION, (inputs, backend, attrs) => {
      const { b, tq, nh, d, tensors, sizes } = attnDims(K.ATTENTION, inputs, attrs);
      const out = take(b * tq * nh * d);
      if (out.length > 0) lib.rho1_attention_fwd(...tensors(backend), out, ...sizes);
      return output(backend, [b, tq, nh, d], out);
    }),
    kernel(K.ATTENTION_GRAD, (inputs, backend, attrs) => {
      const { b, tq, tk, nh, nkv, d, tensors, sizes } = attnDims(K.ATTENTION_GRAD, inputs, attrs);
      const { dy, q, k, v } = inputs;
      expectSame(K.ATTENTION_GRAD, "dy", dy, q.shape);
      const dq = take(b * tq * nh * d);
      const dk = takeZeroed(b * tk * nkv * d); // accumulated over the query heads of each KV head
      const dv = takeZeroed(b * tk * nkv * d);
      if (dq.length > 0 && dk.length > 0) {
        lib.rho1_attention_bwd(f32(backend, dy), ...tensors(backend), dq, dk, dv, ...sizes);
      }
      return [
        output(backend, [...q.shape], dq),
        output(backend, [...k.shape], dk),
        output(backend, [...v.shape], dv),
      ];
    }),
    kernel(K.SWIGLU, ({ gate, up }, backend) => {
      expectSame(K.SWIGLU, "up", up, gate.shape);
      const out = take(sizeOf(gate.shape));
      if (out.length > 0) lib.rho1_swiglu_fwd(f32(backend, gate), f32(backend, up), out, out.length);
      return output(backend, [...gate.shape], out);
    }),
    kernel(K.SWIGLU_GRAD, ({ dy, gate, up }, backend) => {
      expectSame(K.SWIGLU_GRAD, "up", up, gate.shape);
      expectSame(K.SWIGLU_GRAD, "dy", dy, gate.shape);
      const n = sizeOf(gate.shape);
      const dg = take(n);
      const du = take(n);
      if (n > 0) lib.rho1_swiglu_bwd(f32(backend, dy), f32(backend, gate), f32(backend, up), dg, du, n);
      return [output(backend, [...gate.shape], dg), output(backend, [...gate.shape], du)];
    }),
    kernel(K.CROSS_ENTROPY, ({ logits, labels }, backend) => {
      expectRank(K.CROSS_ENTROPY, "logits", logits, 2);
      const [n, v] = logits.shape;
      expectSame(K.CROSS_ENTROPY, "labels", labels, [n]);
      const loss = new Float32Array(n);
      const lse = new Float32Array(n);
      if (n > 0 && v > 0) lib.rho1_xent_fwd(f32(backend, logits), i32(backend, labels), loss, lse, n, v);
      // Tensors are immutable, so the row logsumexps stay valid for this logits/labels pair: the gradient reuses
      // them instead of re-reading all N×V logits twice.
      lseCache.set(logits.dataId, { labels: labels.dataId, lse });
      return output(backend, [n], loss);
    }),
    kernel(K.CROSS_ENTROPY_GRAD, ({ dy, logits, labels }, backend) => {
      expectRank(K.CROSS_ENTROPY_GRAD, "logits", logits, 2);
      const [n, v] = logits.shape;
      expectSame(K.CROSS_ENTROPY_GRAD, "labels", labels, [n]);
      expectSame(K.CROSS_ENTROPY_GRAD, "dy", dy, [n]);
      const g = take(n * v);
      const cached = lseCache.get(logits.dataId);
      const lse = cached && cached.labels === labels.dataId ? cached.lse : null;
      if (g.length > 0)
        lib.rho1_xent_bwd(f32(backend, dy), f32(backend, logits), i32(backend, labels), lse, g, n, v);
      return output(backend, [n, v], g);
    }),
    kernel(K.EMBEDDING, ({ table, ids }, backend) => {
      expectRank(K.EMBEDDING, "table", table, 2);
      const [v, h] = table.shape;
      const idv = i32(backend, ids);
      const bad = Number(lib.rho1_embedding_check(idv, idv.length, v));
      if (bad >= 0)
        throw new NativeKernelError(K.EMBEDDING, `ids[${bad}]`, `in [0, ${v - 1}]`, `${idv[bad]}`);
      const out = take(idv.length * h);
      if (out.length > 0) lib.rho1_embedding_fwd(f32(backend, table), idv, out, idv.length, v, h);
      return output(backend, [...ids.shape, h], out);
    }),
    kernel(K.EMBEDDING_GRAD, ({ dy, ids }, backend, attrs) => {
      const v = attrs.vocabSize as number;
      const h = dy.shape[dy.shape.length - 1];
      expectSame(K.EMBEDDING_GRAD, "dy", dy, [...ids.shape, h]);
      const idv = i32(backend, ids);
      const out = takeZeroed(v * h); // scatter-add
      if (out.length > 0 && idv.length > 0)
        lib.rho1_embedding_bwd(f32(backend, dy), idv, out, idv.length, v, h);
      return output(backend, [v, h], out);
    }),
    kernel(K.ADAMW, ({ param, grad, m, v }, backend, attrs) => {
      for (const [field, t] of Object.entries({ grad, m, v })) expectSame(K.ADAMW, field, t, param.shape);
      const n = sizeOf(param.shape);
      const a = attrs as unknown as AdamWAttrs;
      if (!(a.step >= 1)) throw new NativeKernelError(K.ADAMW, "attrs.step", "a number >= 1", `${a.step}`);
      const [pv, gv, mv, vv] = [param, grad, m, v].map((t) => f32(backend, t));
      // inPlace (an extension of the contract): overwrite param/m/v's arrays and return them like Identity does
      // (same dataIds, one more reference each), saving three fresh parameter-sized arrays (page faults) per step.
      // Only arrays this kernel allocated itself are overwritten (never a caller's weights or a file mapping), so
      // the first step allocates; afterwards every tensor sharing those dataIds sees the new values.
      const inPlace =
        a.inPlace === true &&
        new Set([param.dataId, m.dataId, v.dataId, grad.dataId]).size === 4 &&
        [pv, mv, vv].every((x) => adamwArrays.has(x));
      // Without inPlace the outputs come from the pool (every element is written); arrays kept for a later in-place
      // step are this kernel's own, never pooled ones (a recycled array may belong to any tensor by then).
      const fresh = (n: number) => (a.inPlace === true ? new Float32Array(n) : take(n));
      const po = inPlace ? pv : fresh(n);
      const mo = inPlace ? mv : fresh(n);
      const vo = inPlace ? vv : fresh(n);
      if (n > 0) {
        lib.rho1_adamw(pv, gv, mv, vv, po, mo, vo, n, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.step);
      }
      if (inPlace) {
        return [param, m, v].map((t) => {
          backend.incRef(t.dataId);
          return { dataId: t.dataId, shape: [...t.shape], dtype: t.dtype };
        });
      }
      if (a.inPlace === true) for (const x of [po, mo, vo]) adamwArrays.add(x);
      const shape = [...param.shape];
      return [output(backend, shape, po), output(backend, shape, mo), output(backend, shape, vo)];
    }),
  ];
}
