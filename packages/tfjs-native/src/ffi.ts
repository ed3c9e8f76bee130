import { FFIType } from "bun:ffi";

const { ptr, i32, i64, f32, f64, cstring } = FFIType;

/** Every function the compiled library exports, with its bun:ffi signature (see native/*.c). */
export const SYMBOLS = {
  rho1_init: { args: [ptr, i32], returns: i32 },
  rho1_error: { args: [], returns: cstring },
  rho1_blas_corename: { args: [], returns: cstring },
  rho1_threads: { args: [], returns: i32 },
  rho1_blas_internal: { args: [i32], returns: i32 },
  rho1_gemm_select: { args: [i32], returns: i32 },
  rho1_gemm_kernel: { args: [], returns: cstring },
  rho1_sgemm_batched: {
    args: [i32, i32, i32, i32, i32, ptr, ptr, ptr, i32, ptr, ptr, i32],
    returns: FFIType.void,
  },
  rho1_bias_act: { args: [ptr, i64, i32, ptr, i32, i32], returns: FFIType.void },
  rho1_rmsnorm_fwd: { args: [ptr, ptr, ptr, i64, i32, f32], returns: FFIType.void },
  rho1_rmsnorm_bwd: { args: [ptr, ptr, ptr, ptr, ptr, i64, i32, f32], returns: FFIType.void },
  rho1_add: { args: [ptr, ptr, ptr, i64], returns: FFIType.void },
  rho1_swiglu_fwd: { args: [ptr, ptr, ptr, i64], returns: FFIType.void },
  rho1_swiglu_bwd: { args: [ptr, ptr, ptr, ptr, ptr, i64], returns: FFIType.void },
  rho1_adamw: {
    args: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, f64],
    returns: FFIType.void,
  },
  rho1_rope: { args: [ptr, ptr, ptr, ptr, i64, i32, i32, i32], returns: FFIType.void },
  rho1_attention_fwd: {
    args: [ptr, ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32, f32, i32],
    returns: FFIType.void,
  },
  rho1_attention_bwd: {
    args: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32, f32, i32],
    returns: FFIType.void,
  },
  rho1_xent_fwd: { args: [ptr, ptr, ptr, ptr, i64, i64], returns: FFIType.void },
  rho1_xent_bwd: { args: [ptr, ptr, ptr, ptr, ptr, i64, i64], returns: FFIType.void },
  rho1_embedding_check: { args: [ptr, i64, i64], returns: i64 },
  rho1_embedding_fwd: { args: [ptr, ptr, ptr, i64, i64, i64], returns: FFIType.void },
  rho1_embedding_bwd: { args: [ptr, ptr, ptr, i64, i64, i64], returns: FFIType.void },
} as const;
