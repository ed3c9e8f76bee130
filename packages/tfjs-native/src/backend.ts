/** Zero-copy access to the tfjs `cpu` backend's storage: inputs are read in place, outputs adopt fresh arrays. */
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { TensorInfo } from "@tensorflow/tfjs-core";

export type CpuBackend = MathBackendCPU;

/** The backend's own Float32Array for a tensor (converted only if the tensor is not float32). Never write into it. */
export function f32(backend: CpuBackend, t: TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (values instanceof Float32Array) return values;
  return Float32Array.from(values as ArrayLike<number>);
}

/** The backend's Int32Array for an index tensor (float ids are truncated like tfjs's cast). */
export function i32(backend: CpuBackend, t: TensorInfo): Int32Array {
  const values = backend.data.get(t.dataId).values;
  if (values instanceof Int32Array) return values;
  return Int32Array.from(values as ArrayLike<number>, (x) => Math.trunc(x));
}

/** output(backend, shape, values): a new float32 tensor over `values` (pooled again on dispose if from take()). */
export { adopt as output } from "./pool.ts";

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
