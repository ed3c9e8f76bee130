/**
 * A small tmpfs for full-disk tests: `mount -t tmpfs -o size=N` on a fresh folder (needs root / CAP_SYS_ADMIN).
 * Where mounting is impossible the tests that need it are skipped with the reason printed, except in CI, where the
 * runner is root and a missing mount is an error rather than a silently untested fault.
 */
import { afterAll } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  /** The mount point, or null when mounting was impossible. */
  dir: string | null;
  reason: string;
}

export function mountTmpfs(bytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), "rho1-tmpfs-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { stderr: "pipe" });
  if (r.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const reason = `cannot mount a tmpfs (${r.stderr.toString().trim() || `mount exited ${r.exitCode}`})`;
    if (process.env.CI) throw new Error(`${reason}: CI runs as root and must run the full-disk tests`);
    process.stderr.write(`skipping the full-disk tests: ${reason}\n`);
    return { dir: null, reason };
  }
  afterAll(() => {
    Bun.spawnSync(["umount", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, reason: "" };
}

/** Fills the file system holding `dir` with a file `fill` until a write fails: afterwards no page is free. */
export function fillDisk(dir: string): string {
  const path = join(dir, "fill");
  const chunk = new Uint8Array(4096);
  const fd = openSync(path, "w");
  try {
    for (;;) if (writeSync(fd, chunk) < chunk.length) break;
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
  return path;
}
