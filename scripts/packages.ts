/**
 * The publishable packages of the monorepo, discovered from packages/*\/package.json (never a hard-coded list),
 * in dependency order: every package comes after the @rho1 packages it depends on.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");

/** Every file below `dir` (recursively), as paths joined onto it. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** Test code, by a package-relative path: test files and the helpers only tests load. */
export const isTestCode = (path: string) => /\.test\.ts$|(^|\/)test-[^/]*\.ts$|(^|\/)testing\//.test(path);

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  publishConfig?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface WorkspacePackage {
  /** Folder name under packages/. */
  dir: string;
  path: string;
  json: PackageJson;
}

export function readPackageJson(path: string): PackageJson {
  return JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as PackageJson;
}

/** Every non-private package under packages/, dependencies first (a cycle is an error naming it). */
export function workspacePackages(): WorkspacePackage[] {
  const all = readdirSync(join(ROOT, "packages"))
    .filter((dir) => existsSync(join(ROOT, "packages", dir, "package.json")))
    .map((dir) => ({
      dir,
      path: join(ROOT, "packages", dir),
      json: readPackageJson(join(ROOT, "packages", dir)),
    }))
    .filter((p) => !p.json.private);
  const byName = new Map(all.map((p) => [p.json.name, p]));
  const ordered: WorkspacePackage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (p: WorkspacePackage, chain: string[]): void => {
    const seen = state.get(p.json.name);
    if (seen === "done") return;
    if (seen === "visiting") throw new Error(`dependency cycle: ${[...chain, p.json.name].join(" -> ")}`);
    state.set(p.json.name, "visiting");
    const deps = { ...p.json.dependencies, ...p.json.peerDependencies, ...p.json.optionalDependencies };
    for (const name of Object.keys(deps).sort()) {
      const dep = byName.get(name);
      if (dep) visit(dep, [...chain, p.json.name]);
    }
    state.set(p.json.name, "done");
    ordered.push(p);
  };
  for (const p of all.sort((a, b) => a.json.name.localeCompare(b.json.name))) visit(p, []);
  return ordered;
}
