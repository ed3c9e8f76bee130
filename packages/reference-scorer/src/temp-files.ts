/**
 * Outputs written whole (`score export`, `select`) go to `OUT.tmp-<pid>` and are renamed when complete. A process
 * killed mid-write leaves its temp file behind; the next run removes those of dead processes only, so two live
 * writers never delete each other's work and nothing half-written survives a restart.
 */
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Removes `out.tmp-<pid>` files beside `out` whose process is gone; returns their names. */
export function removeDeadTemps(out: string): string[] {
  const prefix = `${basename(out)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(out));
  } catch {
    return removed; // no folder yet: nothing left behind
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(join(dirname(out), name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** The temp name this process writes `out` under. */
export const tempPathOf = (out: string) => `${out}.tmp-${process.pid}`;
