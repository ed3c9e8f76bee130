import { ops } from "@rho1/transformer";
import * as tf from "@tensorflow/tfjs-core";
import { TrainError } from "./errors.ts";
import { type NamedTensors, type NamedVariables, namedMap, variableMap } from "./named.ts";

/** Kernel name of the fused AdamW step: @rho1/transformer's kernel contract owns it (ops/contract.ts, `ADAMW`). */
export const ADAMW_KERNEL = ops.ADAMW;

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Variables that get no weight decay (default: none, as torch.optim.AdamW(model.parameters())). */
  noDecay?: (name: string) => boolean;
}

/**
 * Parameter groups that can be left out of weight decay (`--weight-decay-exclude`). Hugging Face's Trainer leaves
 * out norms and biases (`get_decay_parameter_names`); many pretraining recipes also leave out the embeddings.
 */
export const WEIGHT_DECAY_GROUPS = ["norms", "embeddings", "bias"] as const;
export type WeightDecayGroup = (typeof WEIGHT_DECAY_GROUPS)[number];

const GROUP_MEMBER: Record<WeightDecayGroup, (name: string) => boolean> = {
  // input_layernorm, post_attention_layernorm, model.norm (RMSNorm weights)
  norms: (name) => /(^|\.)[a-z_]*norm\.weight$/.test(name),
  embeddings: (name) => name.endsWith("embed_tokens.weight"),
  bias: (name) => name.endsWith(".bias"),
};

/** The noDecay predicate of a list of groups; an unknown group is a TrainError naming the valid ones. */
export function noDecayOf(groups: readonly string[]): (name: string) => boolean {
  for (const g of groups) {
    if (!(WEIGHT_DECAY_GROUPS as readonly string[]).includes(g))
      throw new TrainError(
        `--weight-decay-exclude: expected a comma-separated subset of ${WEIGHT_DECAY_GROUPS.join(",")}, found "${g}"`,
        "bad_option",
      );
  }
  const members = groups.map((g) => GROUP_MEMBER[g as WeightDecayGroup]);
  return (name) => members.some((m) => m(name));
}

/** Optimizer state as plain data: moments per variable name plus the step count (for checkpoints). */
export interface AdamWState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/**
 * AdamW with PyTorch's semantics (torch.optim.AdamW, single-tensor path), on float32 master weights:
 *   p ← p·(1 − lr·wd);  m ← m + (1−β1)(g − m);  v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps).
 * Uses the backend's fused `Rho1AdamW` kernel when one is registered (@rho1/tfjs-native), else tfjs ops.
 */
/** tf.Variable names are global: every optimizer instance gets its own prefix. */
let instances = 0;

export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Variable names that get no weight decay. */
  readonly noDecay: ReadonlySet<string>;
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  private readonly vars: Map<string, tf.Variable>;

  /** `variables`: a Map, a `tf.NamedVariableMap` or a list of tf.Variables (keyed by their names). */
  constructor(variables: NamedVariables, opts: AdamWOptions) {
    this.vars = variableMap(variables);
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    for (const [name, value] of [
      ["lr", this.lr],
      ["beta1", this.beta1],
      ["beta2", this.beta2],
      ["eps", this.eps],
      ["weightDecay", this.weightDecay],
    ] as const) {
      if (!Number.isFinite(value) || value < 0 || (name.startsWith("beta") && value >= 1)) {
        throw new TrainError(
          `AdamW: ${name} must be finite, >= 0${name.startsWith("beta") ? " and < 1" : ""}; found ${value}`,
          "bad_option",
        );
      }
    }
    this.noDecay = new Set([...this.vars.keys()].filter((name) => opts.noDecay?.(name) ?? false));
    const prefix = `adamw${instances++}`;
    for (const [name, variable] of this.vars) {
      if (variable.dtype !== "float32") {
        throw new TrainError(
          `AdamW: variable ${name} must be float32 (master weights), found ${variable.dtype}`,
          "bad_dtype",
        );
      }
      // tf.variable shares its initial tensor's data: tidy disposes that tensor, so the zeros are freed once the
      // first step replaces them (otherwise each moment would leak a model-sized buffer).
      const zeros = (kind: "m" | "v") =>
        tf.tidy(() => tf.variable(tf.zerosLike(variable), false, `${prefix}.${kind}.${name}`));
      this.m.set(name, zeros("m"));
      this.v.set(name, zeros("v"));
    }
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One update. `grads` (a Map or the `tf.NamedTensorMap` of `tf.variableGrads`) maps variable names to
   *  gradients of the same shape; a variable without one is skipped (PyTorch skips parameters whose .grad is
   *  None). `lr` overrides the constructor's (schedules). */
  step(namedGrads: NamedTensors, lr = this.lr): void {
    const grads = namedMap(namedGrads);
    for (const name of grads.keys()) {
      if (!this.vars.has(name))
        throw new TrainError(`AdamW: gradient for unknown variable ${name}`, "unknown_variable");
    }
    this.t++;
    const step = this.t;
    const fused = tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
    const { beta1, beta2, eps } = this;
    for (const [name, param] of this.vars) {
      const grad = grads.get(name);
      if (!grad) continue;
      const weightDecay = this.noDecay.has(name) ? 0 : this.weightDecay;
      if (grad.shape.join() !== param.shape.join()) {
        throw new TrainError(
          `AdamW: gradient for ${name} has shape [${grad.shape}], variable [${param.shape}]`,
          "bad_shape",
        );
      }
      const m = this.m.get(name) as tf.Variable;
      const v = this.v.get(name) as tf.Variable;
      tf.tidy(() => {
        let outs: tf.Tensor[];
        if (fused) {
          const attrs = { lr, beta1, beta2, eps, weightDecay, step };
          outs = tf.engine().runKernel(ADAMW_KERNEL, { param, grad, m, v }, attrs as never) as tf.Tensor[];
        } else {
          const bc1 = 1 - beta1 ** step;
          const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
          const decayed = tf.mul(param, tf.scalar(1 - lr * weightDecay));
          const m2 = tf.add(m, tf.mul(tf.sub(grad, m), tf.scalar(1 - beta1)));
          const v2 = tf.add(tf.mul(v, tf.scalar(beta2)), tf.mul(tf.mul(grad, grad), tf.scalar(1 - beta2)));
          const denom = tf.add(tf.div(tf.sqrt(v2), tf.scalar(bc2Sqrt)), tf.scalar(eps));
          const p2 = tf.add(decayed, tf.mul(tf.div(m2, denom), tf.scalar(-lr / bc1)));
          outs = [p2, m2, v2];
        }
        param.assign(outs[0] as tf.Tensor);
        m.assign(outs[1] as tf.Tensor);
        v.assign(outs[2] as tf.Tensor);
      });
    }
  }

  /** Moments as plain data (synchronous reads: host backends; stateAsync works on every backend). */
  state(): AdamWState {
    const copy = (src: Map<string, tf.Variable>) =>
      new Map([...src].map(([name, t]) => [name, Float32Array.from(t.dataSync() as Float32Array)]));
    return { step: this.t, m: copy(this.m), v: copy(this.v) };
  }

  /** state() read with `await data()`. */
  async stateAsync(): Promise<AdamWState> {
    const copy = async (src: Map<string, tf.Variable>) =>
      new Map(
        await Promise.all(
          [...src].map(
            async ([name, t]) => [name, Float32Array.from((await t.data()) as Float32Array)] as const,
          ),
        ),
      );
    return { step: this.t, m: await copy(this.m), v: await copy(this.v) };
  }

  loadState(state: AdamWState): void {
    for (const [kind, src, dst] of [
      ["m", state.m, this.m],
      ["v", state.v, this.v],
    ] as const) {
      for (const [name, variable] of dst) {
        const data = src.get(name);
        if (!data) throw new TrainError(`AdamW state: missing ${kind}.${name}`, "bad_state");
        if (data.length !== variable.size) {
          throw new TrainError(
            `AdamW state: ${kind}.${name} has ${data.length} values, expected ${variable.size}`,
            "bad_state",
          );
        }
        tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, "float32")));
      }
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
