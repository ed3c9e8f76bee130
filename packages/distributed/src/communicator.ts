/** What data-parallel training asks of a group of processes; one process alone is the group of one. */
export interface Communicator {
  /** This process's index in the group, 0-based. */
  readonly rank: number;
  /** Processes in the group. */
  readonly size: number;
  /** What runs the group, for logs ("single process", "Open MPI v4.1.4, ..."). */
  readonly description: string;
  /** Element-wise sum over all ranks, in place: every rank ends with the same values. */
  allReduceSum(values: Float32Array | Float64Array): void;
  /** Every rank's equally long block, concatenated in rank order. */
  allGather(block: Float32Array): Float32Array;
  /** Rank `root`'s bytes into every rank's `bytes` (same length everywhere). */
  broadcast(bytes: Uint8Array, root?: number): void;
  barrier(): void;
  /** Ends the group (MPI_Finalize); later calls are errors. Idempotent. */
  finalize(): void;
}

/** The group of one: every collective is the identity. Training with it is exactly single-process training. */
export const SOLO: Communicator = {
  rank: 0,
  size: 1,
  description: "single process",
  allReduceSum() {},
  allGather: (block) => Float32Array.from(block),
  broadcast() {},
  barrier() {},
  finalize() {},
};
