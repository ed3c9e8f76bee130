/**
 * The MPI communicator itself: compiles native/mpi.c with mpicc on first use (cached per content hash, like
 * @rho1/tfjs-native's kernels), loads it through bun:ffi and initialises MPI. Loaded only by connectMpi (mpi.ts)
 * under Bun, so that the rest of the package, and this module's absence of bun:ffi, work under Node.
 */
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { buildOnce, NativeUnavailable, nativeCacheDir } from "@rho1/native-build";
import type { Communicator } from "./communicator.ts";
import { DistributedError } from "./errors.ts";

const { ptr, i32, i64, cstring } = FFIType;

const SYMBOLS = {
  rho1_mpi_init: { args: [], returns: i32 },
  rho1_mpi_finalize: { args: [], returns: i32 },
  rho1_mpi_rank: { args: [], returns: i32 },
  rho1_mpi_size: { args: [], returns: i32 },
  rho1_mpi_allreduce_sum_f32: { args: [ptr, i64], returns: i32 },
  rho1_mpi_allreduce_sum_f64: { args: [ptr, i64], returns: i32 },
  rho1_mpi_allgather_f32: { args: [ptr, ptr, i32], returns: i32 },
  rho1_mpi_bcast: { args: [ptr, i64, i32], returns: i32 },
  rho1_mpi_barrier: { args: [], returns: i32 },
  rho1_mpi_error_string: { args: [i32], returns: cstring },
  rho1_mpi_library_version: { args: [], returns: cstring },
} as const;

const NATIVE_DIR = fileURLToPath(new URL("../native", import.meta.url)); // src/ or dist/, beside native/

/** Compiles (once) and loads the MPI shim, then initialises MPI: see connectMpi. */
export async function openMpi(opts: { cacheDir?: string; mpicc?: string }): Promise<Communicator> {
  let library: string;
  try {
    ({ library } = await buildOnce({
      sourceDir: NATIVE_DIR,
      compilers: [opts.mpicc, process.env.MPICC, "mpicc"],
      flagSets: [["-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-std=gnu11"]],
      libs: ["-ldl"],
      cacheDir: opts.cacheDir ?? nativeCacheDir(),
      noCompiler:
        "mpicc not found (install an MPI: apt-get install openmpi-bin libopenmpi-dev; or set MPICC)",
    }));
  } catch (error) {
    if (error instanceof NativeUnavailable) throw new DistributedError(error.message, "mpi_unavailable");
    throw error;
  }
  const { symbols: mpi } = dlopen(library, SYMBOLS);
  const check = (call: string, rc: number) => {
    if (rc !== 0) throw new DistributedError(`${call}: ${mpi.rho1_mpi_error_string(rc)}`, "mpi_call_failed");
  };
  check("MPI_Init_thread", mpi.rho1_mpi_init());
  const rank = mpi.rho1_mpi_rank();
  const size = mpi.rho1_mpi_size();
  const version = String(mpi.rho1_mpi_library_version()).split(/[,\n]/)[0]?.trim() ?? "MPI";
  let finalized = false;
  const alive = (call: string) => {
    if (finalized) throw new DistributedError(`${call} after finalize()`, "bad_argument");
  };
  const comm: Communicator = {
    rank,
    size,
    description: `${version}, rank ${rank} of ${size}`,
    allReduceSum(values) {
      alive("allReduceSum");
      if (values.length === 0) return;
      if (values instanceof Float32Array)
        check("MPI_Allreduce", mpi.rho1_mpi_allreduce_sum_f32(values, values.length));
      else check("MPI_Allreduce", mpi.rho1_mpi_allreduce_sum_f64(values, values.length));
    },
    allGather(block) {
      alive("allGather");
      const out = new Float32Array(block.length * size);
      if (block.length > 0) check("MPI_Allgather", mpi.rho1_mpi_allgather_f32(block, out, block.length));
      return out;
    },
    broadcast(bytes, root = 0) {
      alive("broadcast");
      if (!(Number.isInteger(root) && root >= 0 && root < size)) {
        throw new DistributedError(`broadcast: root ${root} is not a rank of ${size}`, "bad_argument");
      }
      if (bytes.length > 0) check("MPI_Bcast", mpi.rho1_mpi_bcast(bytes, bytes.length, root));
    },
    barrier() {
      alive("barrier");
      check("MPI_Barrier", mpi.rho1_mpi_barrier());
    },
    finalize() {
      if (finalized) return;
      finalized = true;
      check("MPI_Finalize", mpi.rho1_mpi_finalize());
    },
  };
  // A rank that ends without MPI_Finalize makes mpirun fail the whole job: wanted after an error (the other ranks
  // may be waiting in a collective and must be stopped), not after success.
  process.on("exit", (code) => {
    if (code === 0) comm.finalize();
  });
  return comm;
}
