export { type Communicator, SOLO } from "./communicator.ts";
export { DistributedError } from "./errors.ts";
export { connectMpi, launchedByMpi } from "./mpi.ts";

import { SOLO } from "./communicator.ts";
import { connectMpi, launchedByMpi } from "./mpi.ts";

/** The MPI communicator when an MPI launcher started this process, else the group of one (nothing loaded). */
export async function communicatorFromEnvironment(): Promise<import("./communicator.ts").Communicator> {
  return launchedByMpi() ? connectMpi() : SOLO;
}
