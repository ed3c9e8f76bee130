/** Kernel names, forward and backward: the contract's, owned by @rho1/transformer (packages/transformer/src/ops/contract.ts). */
import { ops } from "@rho1/transformer";

export const {
  RMS_NORM,
  ROPE,
  ATTENTION,
  SWIGLU,
  CROSS_ENTROPY,
  EMBEDDING,
  ADAMW,
  RMS_NORM_GRAD,
  ROPE_GRAD,
  ATTENTION_GRAD,
  SWIGLU_GRAD,
  CROSS_ENTROPY_GRAD,
  EMBEDDING_GRAD,
} = ops;

export const CONTRACT_KERNELS = ops.KERNEL_NAMES;
