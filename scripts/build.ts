/**
 * `bun run build`: compiles every package's src/ into its dist/ (ESM .js, .d.ts, source maps) with one tsc run over
 * all packages (so cross-package types resolve from source), then moves each package's output into place.
 * tsc rewrites relative `./x.ts` imports to `./x.js` in the JavaScript (rewriteRelativeImportExtensions) but keeps
 * them in declarations, so the .d.ts files get the same rewrite here; source maps are re-pointed at src/, which the
 * packages ship beside dist/.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT, workspacePackages } from "./packages.ts";

const OUT = join(ROOT, ".build");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** `from "./a.ts"`, `import("../b.ts")` -> .js; bare specifiers (other packages) are left alone. */
export function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3");
}

export function build(): string[] {
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
    for (const file of walk(from)) {
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
    built.push(pkg.json.name);
  }
  rmSync(OUT, { recursive: true, force: true });
  return built;
}

if (import.meta.main) {
  const t0 = performance.now();
  const built = build();
  console.log(
    `build: ${built.length} packages compiled to dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
