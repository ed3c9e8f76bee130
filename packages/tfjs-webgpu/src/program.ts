/**
 * A WGSL compute program in tfjs-backend-webgpu's form. The backend writes the preamble: one read-only storage array
 * per input (named as in `inputs`), `result` for the output, and a `uniforms` struct holding every input's shape
 * (`<name>Shape`, first letter lower-cased) plus the fields declared in `uniforms`. The body defines
 * `fn main(index: i32)`, called once per invocation with the global invocation index; the dispatch is flat, so
 * `index / workgroupSize` is the workgroup's number even when the backend folds a long dispatch into 2-D.
 *
 * Every value that changes between calls (sequence lengths, cache length, scalars) is read from `uniforms`, so the
 * compiled pipeline is reused: the backend caches pipelines by `key` plus input ranks and dtypes, never by shape.
 */
import type { WebGPUBackend, WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";

export interface ProgramSpec {
  /** Unique per distinct WGSL text: include every constant baked into `code`. */
  key: string;
  inputs: string[];
  outputShape: number[];
  /** Number of workgroups (flat). */
  workgroups: number;
  workgroupSize: number;
  /** Extra uniform fields, e.g. "eps : f32, n : i32,". */
  uniforms?: string;
  code: string;
}

export class Program implements WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number];
  readonly uniforms?: string;
  readonly size = false;
  private readonly code: string;

  constructor(spec: ProgramSpec) {
    this.variableNames = spec.inputs;
    this.outputShape = spec.outputShape;
    this.shaderKey = `rho1_${spec.key}`;
    this.dispatchLayout = { x: spec.outputShape.map((_, i) => i) };
    this.dispatch = [Math.max(1, spec.workgroups), 1, 1];
    this.workgroupSize = [spec.workgroupSize, 1, 1];
    if (spec.uniforms) this.uniforms = spec.uniforms;
    this.code = spec.code;
  }

  getUserCode(): string {
    return this.code;
  }
}

export type Uniform = { type: "float32" | "int32"; data: number[] };

/** Scalar uniforms, one entry each: the backend lays out a multi-value entry as a vector (8- or 16-byte aligned). */
export const f32 = (...values: number[]): Uniform[] => values.map((v) => ({ type: "float32", data: [v] }));
export const i32 = (...values: number[]): Uniform[] => values.map((v) => ({ type: "int32", data: [v] }));

/** Runs `spec` on `inputs` (TensorInfos; see `view` for free reshapes) and returns the new output. */
export function run(
  backend: WebGPUBackend,
  spec: ProgramSpec,
  inputs: TensorInfo[],
  uniforms: Uniform[] = [],
  dtype: DataType = "float32",
): TensorInfo {
  return backend.runWebGPUProgram(new Program(spec), inputs, dtype, uniforms);
}

/** The same data seen with another shape of equal size (what tfjs's own Reshape does, without a reference count:
 *  only for inputs of a program run now, or for returning a kernel's fresh output). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Workgroups for one invocation per element. */
export const flatGroups = (n: number, wg: number) => Math.ceil(n / wg);
