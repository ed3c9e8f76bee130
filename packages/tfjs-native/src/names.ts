/**
 * Kernel names of the contract in @rho1/transformer (packages/transformer/src/ops/contract.ts), repeated here so this
 * package does not depend on the model package; the *_GRAD names are this package's own backward kernels.
 */
export const RMS_NORM = "Rho1RmsNorm";
export const ROPE = "Rho1Rope";
export const ATTENTION = "Rho1Attention";
export const SWIGLU = "Rho1SwiGLU";
export const CROSS_ENTROPY = "Rho1CrossEntropy";
export const EMBEDDING = "Rho1Embedding";
export const ADAMW = "Rho1AdamW";

export const RMS_NORM_GRAD = "Rho1RmsNormGrad";
export const ROPE_GRAD = "Rho1RopeGrad";
export const ATTENTION_GRAD = "Rho1AttentionGrad";
export const SWIGLU_GRAD = "Rho1SwiGLUGrad";
export const CROSS_ENTROPY_GRAD = "Rho1CrossEntropyGrad";
export const EMBEDDING_GRAD = "Rho1EmbeddingGrad";

export const CONTRACT_KERNELS = [RMS_NORM, ROPE, ATTENTION, SWIGLU, CROSS_ENTROPY, EMBEDDING, ADAMW] as const;
