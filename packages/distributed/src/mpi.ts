/**
 * MPI for data-parallel training. Only processes started by an MPI launcher (mpirun, mpiexec, srun --mpi=pmix)
 * should join; `launchedByMpi` says whether this one was. The communicator loads a compiled shim through bun:ffi
 * (mpi-ffi.ts), imported only when connectMpi runs, so everything else here works under Node too.
 */
import { isBun, runtimeName } from "@rho1/io";
import type { Communicator } from "./communicator.ts";
import { DistributedError } from "./errors.ts";

/** True when an MPI launcher started this process (Open MPI's mpirun, MPICH/Hydra, or PMIx as under srun). */
export function launchedByMpi(env: Record<string, string | undefined> = process.env): boolean {
  return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"].some((name) => env[name] !== undefined);
}

let connected: Communicator | null = null;

/**
 * Joins the MPI job this process belongs to (once; later calls return the same communicator). Needs Bun (bun:ffi)
 * and mpicc; without either it throws DistributedError "mpi_unavailable" saying which.
 */
export async function connectMpi(opts: { cacheDir?: string; mpicc?: string } = {}): Promise<Communicator> {
  if (connected) return connected;
  if (!isBun) {
    throw new DistributedError(
      `the MPI communicator needs Bun (it loads its MPI library through bun:ffi); this is ${runtimeName}. ` +
        "Start each rank with bun, e.g. mpirun -n 2 bun train.ts",
      "mpi_unavailable",
      { expected: "bun", found: runtimeName },
    );
  }
  const { openMpi } = await import("./mpi-ffi.ts");
  connected = await openMpi(opts);
  return connected;
}
