/**
 * The built packages laid out as an install would lay them out, without a registry: `<target>/node_modules/<name>`
 * holds each package as published (scripts/publish.ts stages it: dist/ and the published package.json), and every
 * third-party package they name links to the copy this checkout installed. Node then runs the compiled packages
 * exactly as a user's project would; used by the Node smoke test (node-smoke.test.ts) and by hand:
 *
 *   bun run build && bun scripts/node-stage.ts DIR && cd DIR && node -e 'import("@rho1/transformer")'
 */
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { workspacePackages } from "./packages.ts";
import { stage } from "./publish.ts";

export function stageForNode(target: string): string {
  const modules = join(target, "node_modules");
  rmSync(modules, { recursive: true, force: true });
  mkdirSync(modules, { recursive: true });
  const packages = workspacePackages();
  const versions = new Map(packages.map((p) => [p.json.name, p.json.version]));
  const ours = new Set(versions.keys());
  const staging = join(target, ".stage");
  rmSync(staging, { recursive: true, force: true });
  for (const pkg of packages) {
    const dest = join(modules, pkg.json.name);
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(stage(pkg, staging, versions), dest);
    const deps = { ...pkg.json.dependencies, ...pkg.json.peerDependencies, ...pkg.json.devDependencies };
    for (const name of Object.keys(deps)) {
      const link = join(modules, name);
      const installed = join(pkg.path, "node_modules", name);
      if (ours.has(name) || existsSync(link) || !existsSync(installed)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(realpathSync(installed), link);
    }
  }
  rmSync(staging, { recursive: true, force: true });
  return modules;
}

if (import.meta.main) {
  const target = process.argv[2];
  if (!target) {
    console.error("usage: bun scripts/node-stage.ts DIR");
    process.exit(2);
  }
  console.log(`node-stage: ${stageForNode(target)}`);
}
