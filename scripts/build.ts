/**
 * `bun run build`: compiles every package's src/ into its dist/ (ESM .js, .d.ts, source maps) with one tsc run over
 * all packages (so cross-package types resolve from source), then moves each package's output into place.
 * tsc rewrites relative `./x.ts` imports to `./x.js` in the JavaScript (rewriteRelativeImportExtensions) but keeps
 * them in declarations, so the .d.ts files get the same rewrite here; source maps are re-pointed at src/, which the
 * packages ship beside dist/. A few third-party modules Node cannot load are bundled into the package that needs
 * them (NODE_BUNDLES).
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { filesUnder, ROOT, workspacePackages } from "./packages.ts";

const OUT = join(ROOT, ".build");

/** `from "./a.ts"`, `import("../b.ts")` -> .js; bare specifiers (other packages) are left alone. */
export function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3");
}

/**
 * Modules of other packages that a package ships compiled into its dist/ because Node cannot load them as published
 * (see packages/tfjs-gradients/src/index.ts): bundled with everything they import, one self-contained ES module.
 */
const NODE_BUNDLES = [
  {
    dir: "tfjs-gradients",
    entry: "@tensorflow/tfjs-core/dist/register_all_gradients",
    out: "register-all-gradients.node.js",
  },
];

/**
 * The first lines of a published command (the package's `bin`), replacing its `#!/usr/bin/env bun`: a shell line
 * that starts it with bun when bun is on PATH, else with node. To JavaScript the second line is a string statement
 * and a comment; both runtimes skip the first.
 */
export const BIN_LAUNCHER = `#!/bin/sh
":" //; exec "$(command -v bun || command -v node)" "$0" "$@"
`;

async function bundleForNode(pkgPath: string, entry: string, target: string): Promise<void> {
  const from = Bun.resolveSync(entry, pkgPath);
  const result = await Bun.build({ entrypoints: [from], target: "node", format: "esm" });
  const output = result.outputs[0];
  if (!result.success || !output) throw new Error(`bundling ${entry}: ${result.logs.join("\n")}`);
  const packageName = entry
    .split("/")
    .slice(0, entry.startsWith("@") ? 2 : 1)
    .join("/");
  const manifest = Bun.resolveSync(`${packageName}/package.json`, pkgPath);
  const { name, version, license } = JSON.parse(readFileSync(manifest, "utf8"));
  // Bun names each source module in a comment with its path on this machine: dropped, nothing published may.
  const code = (await output.text()).replace(/^\/\/ [^\n]*node_modules\/[^\n]*\n/gm, "");
  const header = `/**
 * ${entry}.js (${name}@${version}), bundled with the modules it imports by rho1's scripts/build.ts so that Node's
 * ES module loader can run it. @license ${license}: Copyright Google LLC. All Rights Reserved. Licensed under the
 * Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0); distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */
`;
  writeFileSync(target, header + code);
}

export async function build(): Promise<string[]> {
  rmSync(OUT, { recursive: true, force: true });
  const tsc = Bun.spawnSync(["bun", "x", "tsc", "-p", "tsconfig.build.json"], {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (tsc.exitCode !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${tsc.exitCode})`);
  const built: string[] = [];
  for (const pkg of workspacePackages()) {
    const from = join(OUT, pkg.dir, "src");
    const dist = join(pkg.path, "dist");
    rmSync(dist, { recursive: true, force: true });
    if (!existsSync(from)) continue;
    for (const file of filesUnder(from)) {
      const target = join(dist, relative(from, file));
      mkdirSync(dirname(target), { recursive: true });
      if (file.endsWith(".d.ts")) {
        writeFileSync(target, rewriteDeclarationSpecifiers(readFileSync(file, "utf8")));
      } else if (file.endsWith(".map")) {
        const map = JSON.parse(readFileSync(file, "utf8")) as { sources: string[] };
        map.sources = map.sources.map((s) => relative(dirname(target), resolve(dirname(file), s)));
        writeFileSync(target, JSON.stringify(map));
      } else {
        cpSync(file, target);
      }
    }
    for (const bin of Object.values(pkg.json.bin ?? {})) {
      const target = join(pkg.path, bin.replace(/^\.\/src\/(.+)\.ts$/, "dist/$1.js"));
      writeFileSync(target, readFileSync(target, "utf8").replace(/^#!.*\n/, BIN_LAUNCHER));
      chmodSync(target, 0o755);
    }
    for (const bundle of NODE_BUNDLES.filter((b) => b.dir === pkg.dir))
      await bundleForNode(pkg.path, bundle.entry, join(dist, bundle.out));
    built.push(pkg.json.name);
  }
  rmSync(OUT, { recursive: true, force: true });
  return built;
}

if (import.meta.main) {
  const t0 = performance.now();
  const built = await build();
  console.log(
    `build: ${built.length} packages compiled to dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
