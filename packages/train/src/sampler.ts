/** Deterministic data order: a seeded permutation of the sequences per epoch, and a position that a checkpoint can
 *  store and restore exactly. */

import { mulberry32 } from "@rho1/transformer";

function permutation(n: number, seed: number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}

export interface SamplerState {
  seed: number;
  epoch: number;
  /** Index of the next sequence within this epoch's order. */
  index: number;
}

export class Sampler {
  private order: Uint32Array;
  private state: SamplerState;

  constructor(
    readonly numSequences: number,
    seed: number,
    readonly shuffle = true,
  ) {
    this.state = { seed, epoch: 0, index: 0 };
    this.order = this.orderFor(0);
  }

  private orderFor(epoch: number): Uint32Array {
    if (!this.shuffle) return Uint32Array.from({ length: this.numSequences }, (_, i) => i);
    // A distinct, reproducible stream per (seed, epoch).
    return permutation(
      this.numSequences,
      (Math.imul(this.state.seed ^ 0x9e3779b9, 0x85ebca6b) + epoch * 0x27d4eb2f) >>> 0,
    );
  }

  /** The next `count` sequence indices, wrapping into a new epoch (a new permutation) when one ends. */
  next(count: number): number[] {
    const out: number[] = [];
    while (out.length < count) {
      if (this.state.index >= this.numSequences) {
        this.state = { ...this.state, epoch: this.state.epoch + 1, index: 0 };
        this.order = this.orderFor(this.state.epoch);
      }
      out.push(this.order[this.state.index++] as number);
    }
    return out;
  }

  save(): SamplerState {
    return { ...this.state };
  }

  restore(state: SamplerState): void {
    this.state = { ...state };
    this.order = this.orderFor(state.epoch);
  }
}
