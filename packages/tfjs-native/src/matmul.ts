/**
 * BatchMatMul and _FusedMatMul through the built-in SGEMM or OpenBLAS (blas.ts picks) on the backend's
 * Float32Arrays: transposes become BLAS flags, broadcast batch dimensions become per-batch operand offsets (general numpy broadcasting, which the stock
 * kernel only handles when one side's batch is 1 or equal). Also a BatchMatMul gradient that reduces over broadcast
 * batch dimensions (the stock one returns the unreduced shape and fails).
 */

import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import * as tf from "@tensorflow/tfjs-core";
import { type CpuBackend, f32, output, sizeOf } from "./backend.ts";
import type { LoadedNative, NativeSymbols } from "./loader.ts";
import { take } from "./pool.ts";

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Output batch → operand batch index under numpy broadcasting; null when it is the identity. */
function batchIndex(operand: number[], out: number[]): Int32Array | null {
  const n = sizeOf(out);
  if (operand.length === out.length && operand.every((d, i) => d === out[i])) return null;
  const idx = new Int32Array(n);
  const offset = out.length - operand.length;
  const strides = new Array<number>(operand.length);
  let s = 1;
  for (let i = operand.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= operand[i];
  }
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let at = 0;
    for (let axis = out.length - 1; axis >= 0; axis--) {
      const coord = rem % out[axis];
      rem = Math.floor(rem / out[axis]);
      const oa = axis - offset;
      if (oa >= 0 && operand[oa] !== 1) at += coord * strides[oa];
    }
    idx[flat] = at;
  }
  return idx;
}

export function matmulInto(
  native: LoadedNative,
  backend: CpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): { shape: number[]; values: Float32Array; rows: number; n: number } {
  const ar = a.shape.length;
  const br = b.shape.length;
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
        `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = sizeOf(outer);
  const shape = [...outer, m, n];
  if (batch * m * n === 0 || k === 0)
    return { shape, values: new Float32Array(batch * m * n), rows: batch * m, n };
  const values = take(batch * m * n); // sgemm with beta 0 overwrites every element
  const av = f32(backend, a);
  const bv = f32(backend, b);
  const lib = native.symbols;
  const ta = transposeA ? 1 : 0;
  const tb = transposeB ? 1 : 0;
  const flops = 2 * batch * m * n * k;
  if (!transposeA && sizeOf(outerB) === 1 && sizeOf(outerA) === batch) {
    // [..., M, K] · [K, N]: one sgemm over all batch rows.
    native.chooser.run(`${ta}${tb} ${batch * m}x${n}x${k}`, flops, (openblas) =>
      lib.rho1_sgemm_batched(0, tb, batch * m, n, k, av, bv, values, 1, null, null, openblas),
    );
  } else {
    const ai = batchIndex(outerA, outer);
    const bi = batchIndex(outerB, outer);
    native.chooser.run(`${ta}${tb} ${batch}*${m}x${n}x${k}`, flops, (openblas) =>
      lib.rho1_sgemm_batched(ta, tb, m, n, k, av, bv, values, batch, ai, bi, openblas),
    );
  }
  return { shape, values, rows: batch * m, n };
}

type MatMulInputs = Record<string, TensorInfo | undefined>;

/** A cpu kernel that runs `native`, or the stock kernel where `native` returns null (a case it does not cover). */
function withStockFallback(
  kernelName: string,
  stock: KernelConfig | undefined,
  native: (
    inputs: MatMulInputs,
    cpu: CpuBackend,
    attrs: MatMulAttrs & { activation?: string },
  ) => TensorInfo | null,
): KernelConfig {
  return {
    kernelName,
    backendName: "cpu",
    kernelFunc: (args) => {
      const attrs = args.attrs as unknown as MatMulAttrs & { activation?: string };
      const out = native(args.inputs as MatMulInputs, args.backend as CpuBackend, attrs);
      if (out) return out;
      if (!stock) throw new Error(`${kernelName}: these operands are not supported natively`);
      return stock.kernelFunc(args);
    },
  };
}

/** Native for float32 operands; other dtypes (int32 matmuls) run the stock kernel, which keeps their dtype. */
export function batchMatMulKernel(native: LoadedNative, stock: KernelConfig | undefined): KernelConfig {
  return withStockFallback(tf.BatchMatMul, stock, ({ a, b }, cpu, { transposeA, transposeB }) => {
    if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return null;
    const r = matmulInto(native, cpu, a, b, transposeA, transposeB);
    return output(cpu, r.shape, r.values);
  });
}

/** Native for no/linear/relu activation with a scalar or last-axis bias; anything else runs the stock kernel. */
export function fusedMatMulKernel(native: LoadedNative, stock: KernelConfig | undefined): KernelConfig {
  return withStockFallback(tf._FusedMatMul, stock, (inputs, cpu, { transposeA, transposeB, activation }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    const act = activation === undefined || activation === "linear" ? 0 : activation === "relu" ? 1 : -1;
    const biasSize = bias ? sizeOf(bias.shape) : 0;
    const n = b ? (transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]) : 0;
    const biasOk =
      !bias ||
      (bias.dtype === "float32" &&
        (biasSize === 1 || (biasSize === n && bias.shape[bias.shape.length - 1] === n)));
    const floats = a?.dtype === "float32" && b?.dtype === "float32";
    if (act < 0 || preluActivationWeights || !biasOk || !a || !b || !floats) return null;
    const r = matmulInto(native, cpu, a, b, transposeA, transposeB);
    if (r.values.length > 0 && (bias || act)) {
      native.symbols.rho1_bias_act(r.values, r.rows, r.n, bias ? f32(cpu, bias) : null, biasSize, act);
    }
    return output(cpu, r.shape, r.values);
  });
}

/** Sums a gradient computed at the broadcast batch shape back down to the operand's shape. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const axes: number[] = [];
  const offset = g.rank - shape.length;
  for (let axis = 0; axis < g.rank - 2; axis++) {
    if (axis < offset || shape[axis - offset] === 1) axes.push(axis);
  }
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

/** BatchMatMul's gradient with broadcast batches; [..., M, K]·[K, N] folds the batch into M (one sgemm each way). */
export const batchMatMulGrad: GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
    if (a.rank > 2 && b.rank === 2 && !transposeA) {
      const k = a.shape[a.rank - 1];
      const a2 = tf.reshape(a, [-1, k]) as tf.Tensor2D;
      const g2 = tf.reshape(g, [-1, g.shape[g.rank - 1]]) as tf.Tensor2D;
      return {
        a: () => tf.reshape(tf.matMul(g2, b as tf.Tensor2D, false, !transposeB), a.shape),
        b: () => (transposeB ? tf.matMul(g2, a2, true, false) : tf.matMul(a2, g2, true, false)),
      };
    }
    let da: () => tf.Tensor;
    let db: () => tf.Tensor;
    if (!transposeA && !transposeB) {
      da = () => tf.matMul(g, b, false, true);
      db = () => tf.matMul(a, g, true, false);
    } else if (!transposeA && transposeB) {
      da = () => tf.matMul(g, b, false, false);
      db = () => tf.matMul(g, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => tf.matMul(b, g, false, true);
      db = () => tf.matMul(a, g, false, false);
    } else {
      da = () => tf.matMul(b, g, true, true);
      db = () => tf.matMul(g, a, true, true);
    }
    return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
  },
};

/**
 * Add for two float32 tensors of the same shape (residual connections, gradient accumulation) in C; anything else
 * (broadcasting, other dtypes, small tensors where the call costs more) runs the stock kernel.
 */
export function addKernel(lib: NativeSymbols, stock: KernelConfig | undefined): KernelConfig {
  return {
    kernelName: tf.Add,
    backendName: "cpu",
    kernelFunc: (args) => {
      const { inputs, backend } = args;
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const n = sizeOf(a.shape);
      const same =
        a.dtype === "float32" &&
        b.dtype === "float32" &&
        a.shape.length === b.shape.length &&
        a.shape.every((d, i) => d === b.shape[i]);
      if (!same || n < 4096) {
        if (!stock) throw new Error("Add: the stock cpu kernel is not registered");
        return stock.kernelFunc(args);
      }
      const cpu = backend as CpuBackend;
      const out = take(n);
      lib.rho1_add(f32(cpu, a), f32(cpu, b), out, n);
      return output(cpu, [...a.shape], out);
    },
  };
}
