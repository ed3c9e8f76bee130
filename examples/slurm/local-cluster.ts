/**
 * A one-node Slurm cluster on localhost inside one folder, for tests: its own munge key and socket, its own
 * slurm.conf, ports and state, daemons started by hand as root and stopped by their pid files. Needs Debian's
 * `slurm-wlm` and `munge`. Nothing outside the folder is touched; `stop()` leaves no process behind.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { join } from "node:path";

export const SLURM_BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"];

/** Why a local cluster cannot start here (a missing binary, not root), or null when it can. */
export function slurmUnavailable(): string | null {
  const missing = SLURM_BINARIES.filter(
    (b) => !Bun.which(b, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }),
  );
  if (missing.length > 0) return `not installed: ${missing.join(", ")} (apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return "the one-node cluster runs its daemons as root";
  return null;
}

export interface LocalSlurm {
  dir: string;
  /** Environment for sbatch/squeue/scancel (SLURM_CONF pointing at this cluster). */
  env: Record<string, string | undefined>;
  /** Runs a Slurm client command against this cluster; throws with its stderr on failure. */
  run(args: string[], extraEnv?: Record<string, string | undefined>): string;
  /** Waits until no job of `jobId` is pending or running. */
  waitIdle(jobId: string, timeoutMs: number): Promise<void>;
  stop(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SBIN = (name: string) => Bun.which(name, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }) ?? name;

function runOrThrow(argv: string[], env: Record<string, string | undefined>): string {
  const proc = Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} exited ${proc.exitCode}: ${proc.stderr.toString().trim()}`);
  }
  return proc.stdout.toString();
}

function killByPidFile(path: string): number | null {
  if (!existsSync(path)) return null;
  const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
  if (!(pid > 1)) return null;
  try {
    process.kill(pid, "SIGTERM");
    return pid;
  } catch {
    return null; // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts munged, slurmctld and slurmd in `dir` (created) and waits until the node is idle. */
export async function startLocalSlurm(dir: string): Promise<LocalSlurm> {
  const host = hostname().split(".")[0];
  const cpus = availableParallelism();
  // Random ports so that clusters of concurrent test runs never meet.
  const port = 20_000 + Math.floor(Math.random() * 20_000) * 2;
  mkdirSync(join(dir, "munge"), { recursive: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  mkdirSync(join(dir, "spool"), { recursive: true });
  chmodSync(dir, 0o755); // munged wants its socket's folders searchable by all
  const key = join(dir, "munge/munge.key");
  writeFileSync(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o400 });
  const socket = join(dir, "munge/munge.socket");
  const conf = join(dir, "slurm.conf");
  writeFileSync(
    conf,
    `ClusterName=rho1test${port}
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${socket}
CredType=cred/munge
SlurmctldPort=${port}
SlurmdPort=${port + 1}
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
KillWait=2
ReturnToService=2
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=${host} CPUs=${cpus} State=UNKNOWN
PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP
`,
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const pidFiles = [join(dir, "slurmd.pid"), join(dir, "slurmctld.pid"), join(dir, "munge/munged.pid")];
  const stop = () => {
    const pids = pidFiles.map(killByPidFile).filter((p): p is number => p !== null);
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) Bun.sleepSync(50);
    for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
  };
  try {
    runOrThrow(
      [
        SBIN("munged"),
        "--force",
        `--key-file=${key}`,
        `--socket=${socket}`,
        `--pid-file=${pidFiles[2]}`,
        `--seed-file=${join(dir, "munge/munged.seed")}`,
        `--log-file=${join(dir, "munge/munged.log")}`,
      ],
      env,
    );
    runOrThrow([SBIN("slurmctld"), "-f", conf], env);
    runOrThrow([SBIN("slurmd"), "-f", conf], env);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const proc = Bun.spawnSync(["sinfo", "-h", "-o", "%t"], { env, stdout: "pipe", stderr: "pipe" });
      if (proc.stdout.toString().trim() === "idle") break;
      if (Date.now() > deadline) {
        const log = (f: string) =>
          existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8").slice(-2000) : "";
        throw new Error(
          `local Slurm node not idle after 30 s:\n${log("slurmctld.log")}\n${log("slurmd.log")}`,
        );
      }
      await sleep(200);
    }
  } catch (error) {
    stop();
    throw error;
  }
  return {
    dir,
    env,
    run: (args, extraEnv = {}) => runOrThrow(args, { ...env, ...extraEnv }),
    async waitIdle(jobId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const proc = Bun.spawnSync(["squeue", "-h", "-j", jobId, "-o", "%i %t"], {
          env,
          stdout: "pipe",
          stderr: "pipe",
        });
        // Done when nothing is listed, or when the controller has already forgotten the job.
        if (proc.stdout.toString().trim() === "" || proc.stderr.toString().includes("Invalid job id")) return;
        if (Date.now() > deadline)
          throw new Error(`job ${jobId} still queued or running after ${timeoutMs} ms`);
        await sleep(250);
      }
    },
    stop,
  };
}
