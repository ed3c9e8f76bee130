/** One rank of mpi.test.ts: runs each collective on rank-dependent data and prints what it got as one JSON line. */
import { connectMpi } from "../mpi.ts";

const comm = await connectMpi();
const { rank, size } = comm;
const f32 = Float32Array.from({ length: 5 }, (_, i) => (rank + 1) * (i + 0.5));
comm.allReduceSum(f32);
const f64 = Float64Array.from([rank + 0.1, 1e300 / size]);
comm.allReduceSum(f64);
const gathered = comm.allGather(Float32Array.from([rank, rank * 10, rank === 0 ? 0 : -rank]));
const bytes = rank === 1 ? new TextEncoder().encode("from rank one") : new Uint8Array(13);
comm.broadcast(bytes, 1);
comm.barrier();
let badRoot = "";
try {
  comm.broadcast(new Uint8Array(1), size);
} catch (error) {
  badRoot = (error as Error).message;
}
process.stdout.write(
  `${JSON.stringify({ rank, size, f32: [...f32], f64: [...f64], gathered: [...gathered], text: new TextDecoder().decode(bytes), badRoot, description: comm.description })}\n`,
);
comm.finalize();
