/** A failed collective or MPI start-up: `code` says which, the message names the call and MPI's reason. */
export class DistributedError extends Error {
  override name = "DistributedError";
  constructor(
    message: string,
    readonly code: "mpi_unavailable" | "mpi_call_failed" | "bad_argument",
  ) {
    super(message);
  }
}
