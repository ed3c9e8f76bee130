/**
 * One writer per output folder. Every command that writes a folder (score, merge, train, export, select) holds
 * `<dir>/.rho1.lock` while it runs: created with O_CREAT|O_EXCL, so of two processes only one can make it, and
 * holding {pid, host, start, command} so that a refusal can name the holder and a dead holder can be recognised.
 *
 * Why not flock(2): neither Bun nor Node exposes flock, and an advisory lock says nothing about who holds it. Why the process
 * start time: pids are reused, and a lock left by a SIGKILLed run must not look held by whatever got its pid.
 *
 * Temp files and folders inside an output folder carry their maker's pid (`*.tmp-<pid>`, `.tmp-<name>-<pid>`,
 * `*.old-<pid>`). `removeStaleTemps` deletes only those whose maker is gone, so a second process never removes a
 * running one's temp file, even one that (wrongly) writes without the lock.
 */
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Rho1Error } from "./error.ts";
import { sleepSync } from "./runtime.ts";

export const LOCK_FILE = ".rho1.lock";

/** Another live process holds the folder's lock (or it is held from another host). */
export class OutputLockedError extends Rho1Error {
  override name = "OutputLockedError";
  readonly file: string;
  readonly holder: LockHolder | null;
  constructor(message: string, file: string, holder: LockHolder | null) {
    super("locked", message, { file, holder });
    this.file = file;
    this.holder = holder;
  }
}

export interface LockHolder {
  pid: number;
  host: string;
  /** Process start time (clock ticks since boot, /proc/<pid>/stat field 22); null where /proc is absent. */
  start: number | null;
  command: string;
}

export interface OutputLock {
  readonly dir: string;
  readonly file: string;
  /** Removes the lock file if it is still this process's; safe to call more than once. */
  release(): void;
}

/** Start time of a process from /proc (Linux), or null where unavailable or the process is gone. */
function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]); // field 22 overall: starttime
  } catch {
    return null;
  }
}

/** Whether `pid` on this host is a live process (EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function holderAlive(h: LockHolder): boolean {
  if (!processAlive(h.pid)) return false;
  if (h.start === null) return true;
  const start = processStart(h.pid);
  return start === null || start === h.start;
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
}

const describe = (h: LockHolder) => `pid ${h.pid} on ${h.host}${h.command ? ` (${h.command})` : ""}`;

const held = new Set<OutputLock>();
let exitHookInstalled = false;

/**
 * Takes `<dir>/.rho1.lock` (creating `dir`; `lockName` for a lock of one file's own, e.g. `.out.parquet.rho1.lock`
 * beside a single-file output), or throws OutputLockedError naming the holder. A lock whose process
 * is gone (same host) is taken over, with one notice through `notice`. Released by `release()` or at exit.
 */
export function lockOutput(
  dir: string,
  command: string,
  notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  lockName = LOCK_FILE,
): OutputLock {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, lockName);
  const me: LockHolder = { pid: process.pid, host: hostname(), start: processStart(process.pid), command };
  const body = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readHolder(file);
      if (holder === null) {
        // Created but not yet written by its maker (a window of microseconds), or garbage: wait, then judge.
        sleepSync(20);
        if (readHolder(file) === null && attempt >= 2) takeOver(file, null, notice);
        continue;
      }
      if (holder.host !== me.host) {
        throw new OutputLockedError(
          `${dir} is in use by ${describe(holder)}; if that run is gone, delete ${file}`,
          file,
          holder,
        );
      }
      if (holder.pid === me.pid || holderAlive(holder)) {
        throw new OutputLockedError(
          `${dir} is in use by ${describe(holder)}; wait for it to finish or use another output folder`,
          file,
          holder,
        );
      }
      takeOver(file, holder, notice);
      continue;
    }
    try {
      writeSync(fd, body);
    } finally {
      closeSync(fd);
    }
    const lock: OutputLock = {
      dir,
      file,
      release() {
        if (!held.delete(lock)) return;
        const now = readHolder(file);
        if (now && now.pid === me.pid && now.host === me.host) rmSync(file, { force: true });
        // A folder this lock created and nothing else filled (the command failed early) is not left behind.
        if (created) rmdirIfEmpty(dir);
      },
    };
    held.add(lock);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", () => {
        for (const l of [...held]) l.release();
      });
    }
    return lock;
  }
  throw new OutputLockedError(`${dir}: could not take ${file} (contended)`, file, readHolder(file));
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (or already gone): keep it
  }
}

/**
 * Moves a dead holder's lock aside atomically (only one of several racing processes can rename it), then checks
 * that what it moved is what it judged dead; if another process had meanwhile made a fresh lock, puts it back.
 */
function takeOver(file: string, stale: LockHolder | null, notice: (line: string) => void): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it first: retry the create
  }
  const moved = readHolder(aside);
  if (moved && (moved.pid !== stale?.pid || moved.start !== stale?.start)) {
    try {
      linkSync(aside, file);
    } catch {
      // A third process already holds a new lock: it won, and the retry will say so.
    }
  } else {
    notice(
      stale
        ? `rho1: taking over the lock of ${describe(stale)}, which is no longer running (${file})`
        : `rho1: taking over an unreadable lock file ${file}`,
    );
  }
  rmSync(aside, { force: true });
}

/** `pid` of a temp name's maker: `x.tmp-123`, `.tmp-checkpoint-000004-123`, `checkpoint-000004.old-123`. */
export function tempOwner(name: string): number | null {
  const match = /(?:^\.tmp-.*-|\.tmp-|\.old-|\.stale-)(\d+)$/.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * Removes temp files and folders left in `dir` by processes that are gone (never this process's, never a live
 * one's). A `X.old-<pid>` whose `X` is missing is the only copy left by a replace that died half-way: it is put
 * back as `X` instead of being deleted. `prefix` limits the sweep to names starting with it (one file's temps in a
 * shared folder). Returns the names removed or restored.
 */
export function removeStaleTemps(dir: string, prefix = ""): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const done: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = tempOwner(name);
    if (pid === null || pid === process.pid || processAlive(pid)) continue;
    const path = join(dir, name);
    const oldOf = /^(.*)\.old-\d+$/.exec(name);
    if (oldOf && !existsSync(join(dir, oldOf[1]))) renameSync(path, join(dir, oldOf[1]));
    else rmSync(path, { recursive: true, force: true });
    done.push(name);
  }
  return done;
}
