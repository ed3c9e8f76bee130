/**
 * Kernel names: the contract's come from @rho1/transformer (packages/transformer/src/ops/contract.ts), which owns it;
 * the *_GRAD names are this package's own backward kernels.
 */
import { ops } from "@rho1/transformer";

export const { RMS_NORM, ROPE, ATTENTION, SWIGLU, CROSS_ENTROPY, EMBEDDING, ADAMW } = ops;

export const RMS_NORM_GRAD = "Rho1RmsNormGrad";
export const ROPE_GRAD = "Rho1RopeGrad";
export const ATTENTION_GRAD = "Rho1AttentionGrad";
export const SWIGLU_GRAD = "Rho1SwiGLUGrad";
export const CROSS_ENTROPY_GRAD = "Rho1CrossEntropyGrad";
export const EMBEDDING_GRAD = "Rho1EmbeddingGrad";

export const CONTRACT_KERNELS = ops.KERNEL_NAMES;
