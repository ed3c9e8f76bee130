import { Rho1Error } from "@rho1/io";

/** A failed collective or MPI start-up: `code` says which, the message names the call and MPI's reason. */
export class DistributedError extends Rho1Error {
  override name = "DistributedError";
  constructor(
    message: string,
    code: "mpi_unavailable" | "mpi_call_failed" | "bad_argument",
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details);
  }
}
