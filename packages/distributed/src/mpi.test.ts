import { expect, test } from "bun:test";
import { join } from "node:path";
import { communicatorFromEnvironment, launchedByMpi, SOLO } from "./index.ts";

/** `mpirun` as root on a small machine: the two flags Open MPI needs there (see docs/scale-out.md). */
export const MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"];
const mpiMissing = !Bun.which("mpirun") || !Bun.which("mpicc");
if (mpiMissing && process.env.CI)
  throw new Error(
    "CI must run the MPI tests: mpirun/mpicc missing (.ci/run installs openmpi-bin libopenmpi-dev)",
  );
if (mpiMissing) console.warn("skipping MPI tests: install openmpi-bin libopenmpi-dev");

test("outside MPI: the group of one, whose collectives change nothing", async () => {
  expect(launchedByMpi({})).toBe(false);
  expect(launchedByMpi({ OMPI_COMM_WORLD_SIZE: "2" })).toBe(true);
  expect(launchedByMpi({ PMIX_RANK: "0" })).toBe(true);
  expect(launchedByMpi({ PMI_SIZE: "4" })).toBe(true);
  const env = { ...process.env };
  for (const name of ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]) delete process.env[name];
  try {
    expect(await communicatorFromEnvironment()).toBe(SOLO);
  } finally {
    Object.assign(process.env, env);
  }
  const values = Float32Array.from([1, 2]);
  SOLO.allReduceSum(values);
  expect([...values]).toEqual([1, 2]);
  expect([...SOLO.allGather(Float32Array.from([3]))]).toEqual([3]);
});

test.skipIf(mpiMissing)(
  "under mpirun -np 3: sum all-reduce (f32, f64), all-gather in rank order, broadcast",
  () => {
    const proc = Bun.spawnSync(
      [...MPIRUN, "-np", "3", "bun", join(import.meta.dir, "testing/collectives-child.ts")],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const err = proc.stderr.toString();
    expect({ code: proc.exitCode, err: proc.exitCode === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    const ranks = proc.stdout
      .toString()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .sort((a, b) => a.rank - b.rank);
    expect(ranks.map((r) => [r.rank, r.size])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
    for (const r of ranks) {
      expect(r.f32).toEqual([0.5, 1.5, 2.5, 3.5, 4.5].map((x) => 6 * x)); // (1 + 2 + 3) · x
      expect(r.f64[0]).toBeCloseTo(3.3, 12);
      expect(r.f64[1]).toBe(1e300); // summed in f64: no overflow
      expect(r.gathered).toEqual([0, 0, 0, 1, 10, -1, 2, 20, -2]);
      expect(r.text).toBe("from rank one");
      expect(r.badRoot).toBe("broadcast: root 3 is not a rank of 3");
      expect(r.description).toContain(`rank ${r.rank} of 3`);
    }
  },
  120_000,
);
