/** Shared set-up of the command tests: paths, a temp folder per test file, and `rho1 <command>` as a child process. */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../../../..");
export const STORIES = join(ROOT, "models/stories260K");

/** A fresh temp folder, removed after the calling test file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `rho1 <name> ...args` (packages/cli/src/main.ts) from the repository root; exit code and output. */
export function cliCommand(name: string) {
  return (...args: string[]) => {
    const proc = Bun.spawnSync(["bun", "packages/cli/src/main.ts", name, ...args], { cwd: ROOT });
    return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  };
}
