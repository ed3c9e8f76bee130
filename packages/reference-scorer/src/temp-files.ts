/**
 * Outputs written whole (`score export`, `select`) go to `OUT.tmp-<pid>` and are renamed when complete, under a lock
 * of their own (`.OUT.rho1.lock` beside it): a second writer of the same file is refused, naming the first. A
 * process killed mid-write leaves its temp file behind; the next run removes those of dead processes only, so
 * nothing half-written survives a restart.
 */
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { lockOutput, type OutputLock, processAlive, tempOwner } from "@rho1/io";

/** Locks the single-file output `out` and removes its temp files left by dead processes. */
export function lockFileOutput(out: string, command: string): OutputLock {
  const lock = lockOutput(dirname(out), command, undefined, `.${basename(out)}.rho1.lock`);
  const prefix = `${basename(out)}.tmp-`;
  for (const name of readdirSync(dirname(out))) {
    const pid = name.startsWith(prefix) ? tempOwner(name) : null;
    if (pid !== null && pid !== process.pid && !processAlive(pid))
      rmSync(join(dirname(out), name), { force: true });
  }
  return lock;
}

/** The temp name this process writes `out` under. */
export const tempPathOf = (out: string) => `${out}.tmp-${process.pid}`;
