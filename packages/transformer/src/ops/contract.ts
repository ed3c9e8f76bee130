/**
 * Kernel contract between @rho1/transformer and faster backends (@rho1/tfjs-native).
 *
 * The model calls its heavy operations only through the op functions in this folder. Each op checks whether the
 * active TensorFlow.js backend has a kernel registered under the name below; if so it runs that kernel through
 * `tf.engine().runKernel(name, inputs, attrs)` (its gradient must be registered with `tf.registerGradient` under
 * the same name), otherwise it runs a composite of stock tfjs ops with the same semantics. A native package
 * therefore speeds the model up by registering kernels; the model code never changes.
 *
 * Layouts avoid transposes: activations stay [B, T, heads, headDim] (the projection matmul's output reshaped).
 * All float tensors are float32; ids and positions are int32.
 */

/** y = x / sqrt(mean(x², last axis) + eps) * weight. inputs {x: [..., H], weight: [H]}; attrs {eps}. Output like x. */
export const RMS_NORM = "Rho1RmsNorm";

/**
 * Rotary embedding, Hugging Face convention (rotate_half: the first and second halves of headDim pair up).
 * inputs {x: [B, T, nHeads, D], positions: int32 [B, T]}; attrs {theta: number, scaling: RopeScaling | null}.
 * angle(p, i) = p · invFreq[i], invFreq[i] = theta^(-2i/D) (adjusted by `scaling`, see rope.ts).
 * Output like x. Gradient: the same rotation by −angle.
 */
export const ROPE = "Rho1Rope";

/**
 * Causal multi-head attention with grouped KV heads (query head h reads KV head floor(h / (nHeads / nKv))).
 * inputs {q: [B, Tq, nHeads, D], k: [B, Tk, nKv, D], v: [B, Tk, nKv, D], keyMask: float32 [B, Tk] (1 = attend,
 * 0 = padding)}; attrs {scale: number, queryOffset: number}. Query i sits at key index i + queryOffset (0 for a
 * full forward pass; the cache length when decoding), and sees key j iff j <= i + queryOffset and keyMask[b, j] = 1.
 * Softmax is computed max-subtracted in float32. A query row that sees no key at all outputs zeros.
 * Output [B, Tq, nHeads, D].
 */
export const ATTENTION = "Rho1Attention";

/** silu(gate) · up. inputs {gate: [..., F], up: [..., F]}. Output like gate. */
export const SWIGLU = "Rho1SwiGLU";

/**
 * Per-token cross-entropy. inputs {logits: [N, V], labels: int32 [N]}. Output float32 [N]:
 * logsumexp(logits[n]) − logits[n, labels[n]]. A label outside [0, V) gives 0 (use it for ignored positions).
 */
export const CROSS_ENTROPY = "Rho1CrossEntropy";

/**
 * Embedding lookup. inputs {table: [V, H], ids: int32 [...]}. Output [..., H]. Gradient w.r.t. table is a
 * scatter-add of the output gradient into a [V, H] zero tensor (never a dense one-hot matmul).
 */
export const EMBEDDING = "Rho1Embedding";

/**
 * One AdamW step with PyTorch semantics (used by @rho1/train, not by the model):
 * param ← param − lr·wd·param; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * param ← param − lr · (m / (1−β1^step)) / (sqrt(v / (1−β2^step)) + eps).
 * inputs {param, grad, m, v} (same shape); attrs {lr, beta1, beta2, eps, weightDecay, step}.
 * Outputs [param', m', v'].
 */
export const ADAMW = "Rho1AdamW";

export const KERNEL_NAMES = [RMS_NORM, ROPE, ATTENTION, SWIGLU, CROSS_ENTROPY, EMBEDDING, ADAMW] as const;

/*
 * Backward kernels. A backend that registers a contract kernel registers its backward kernel under the name below;
 * the gradients in gradients.ts route autodiff to it, so one GradConfig serves every backend. Each returns a list.
 */
/** inputs {dy, x, weight}; attrs {eps}. Outputs [dx like x, dweight like weight]. */
export const RMS_NORM_GRAD = "Rho1RmsNormGrad";
/** inputs {dy, positions}; attrs like ROPE. Outputs [dx]: dy rotated by −angle. */
export const ROPE_GRAD = "Rho1RopeGrad";
/** inputs {dy, q, k, v, keyMask}; attrs like ATTENTION. Outputs [dq, dk, dv]. */
export const ATTENTION_GRAD = "Rho1AttentionGrad";
/** inputs {dy, gate, up}. Outputs [dgate, dup]. */
export const SWIGLU_GRAD = "Rho1SwiGLUGrad";
/** inputs {dy: [N], logits, labels}. Outputs [dlogits]: (softmax − onehot) · dy, zero rows for ignored labels. */
export const CROSS_ENTROPY_GRAD = "Rho1CrossEntropyGrad";
/** inputs {dy: [..., H], ids}; attrs {vocabSize}. Outputs [dtable [V, H]]: the scatter-add of dy rows by id. */
export const EMBEDDING_GRAD = "Rho1EmbeddingGrad";
