/**
 * Stages every package for publishing and publishes it, dependencies first:
 *
 *   bun run build && bun scripts/publish.ts --registry http://127.0.0.1:4873 [--stage-dir DIR] [--dry-run]
 *
 * Inside the monorepo each package.json points at src/ (Bun runs the TypeScript directly, workspaces link it).
 * The published package.json is derived from it here, as pnpm applies publishConfig: every `./src/X.ts` entry of
 * `exports`, `types` and `bin` becomes the compiled `./dist/X.js` (+ `./dist/X.d.ts` under `types`),
 * `workspace:*` becomes the exact version of that package, devDependencies are dropped, and `publishConfig`
 * overrides are applied. Publishing refuses a package whose dist/ is missing or whose files reach outside it.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { filesUnder, type PackageJson, type WorkspacePackage, workspacePackages } from "./packages.ts";

type Exports = Record<string, string | Record<string, string>>;

function distOf(path: string, ext: ".js" | ".d.ts"): string {
  const m = /^\.\/src\/(.+)\.ts$/.exec(path);
  return m ? `./dist/${m[1]}${ext}` : path;
}

/**
 * `./src/X.ts` -> `{ types, import, default }` in dist/. A condition map keeps its conditions in order (e.g. `bun`
 * before `node`, so each runtime gets its own entry), each path compiled the same way.
 */
export function publishedExports(exports: Exports): Exports {
  const out: Exports = {};
  for (const [key, value] of Object.entries(exports)) {
    const source = typeof value === "string" ? value : (value.default ?? value.import ?? "");
    if (!source.startsWith("./src/")) {
      out[key] = value;
      continue;
    }
    const conditions = typeof value === "string" ? {} : value;
    const runtimes = Object.entries(conditions).filter(([c]) => !["types", "import", "default"].includes(c));
    out[key] = {
      types: distOf(conditions.types ?? source, ".d.ts"),
      ...Object.fromEntries(runtimes.map(([c, path]) => [c, distOf(path, ".js")])),
      import: distOf(source, ".js"),
      default: distOf(source, ".js"),
    };
  }
  return out;
}

/** The package.json as published (see the header). */
export function publishedManifest(json: PackageJson, versions: Map<string, string>): PackageJson {
  const out: PackageJson = { ...json };
  const pin = (deps: Record<string, string> | undefined) => {
    if (!deps) return undefined;
    const pinned: Record<string, string> = {};
    for (const [name, range] of Object.entries(deps)) {
      if (!range.startsWith("workspace:")) pinned[name] = range;
      else {
        const version = versions.get(name);
        if (!version) throw new Error(`${json.name}: ${name} is ${range} but no such package is published`);
        pinned[name] = version;
      }
    }
    return pinned;
  };
  out.dependencies = pin(json.dependencies);
  out.peerDependencies = pin(json.peerDependencies);
  out.optionalDependencies = pin(json.optionalDependencies);
  delete out.devDependencies;
  delete out.scripts;
  if (json.exports) out.exports = publishedExports(json.exports);
  if (typeof json.types === "string") out.types = distOf(json.types, ".d.ts");
  if (json.bin) out.bin = Object.fromEntries(Object.entries(json.bin).map(([k, v]) => [k, distOf(v, ".js")]));
  if (json.files && !json.files.includes("dist")) out.files = ["dist", ...json.files];
  const { publishConfig, ...rest } = out;
  const overrides = { ...(publishConfig ?? {}) };
  for (const key of ["exports", "types", "bin", "main", "module", "engines"]) {
    if (key in overrides) {
      rest[key] = overrides[key];
      delete overrides[key];
    }
  }
  for (const key of Object.keys(rest)) if (rest[key] === undefined) delete rest[key];
  return Object.keys(overrides).length > 0 ? { ...rest, publishConfig: overrides } : rest;
}

/**
 * Paths a published file must not contain: anything that only exists in this repository or beside it. Relative
 * string literals in compiled code are resolved and must stay inside the package.
 */
export function repositoryReferences(stageDir: string): string[] {
  const problems: string[] = [];
  const dist = join(stageDir, "dist");
  for (const file of existsSync(dist) ? filesUnder(dist) : []) {
    if (!file.endsWith(".js")) continue;
    const text = readFileSync(file, "utf8");
    if (/\.\.\/shared\b|\/work\/|import\.meta\.dir\b/.test(text))
      problems.push(`${relative(stageDir, file)}: mentions a repository path or Bun-only import.meta.dir`);
    for (const m of text.matchAll(/["'`](\.\.\/[^"'`\s]*)["'`]/g)) {
      const target = resolve(dirname(file), m[1] as string);
      if (relative(stageDir, target).startsWith("..") && !/^\.\.\/[^/]+\.(js|json)$/.test(m[1] as string))
        problems.push(`${relative(stageDir, file)}: ${m[1]} leads outside the package`);
    }
  }
  for (const name of ["README.md", "package.json"]) {
    const path = join(stageDir, name);
    if (existsSync(path) && /\.\.\/shared\b/.test(readFileSync(path, "utf8")))
      problems.push(`${name}: mentions ../shared`);
  }
  return problems;
}

/** Copies a package (without node_modules) to stageRoot/<dir> with its published package.json. */
export function stage(pkg: WorkspacePackage, stageRoot: string, versions: Map<string, string>): string {
  if (!existsSync(join(pkg.path, "dist")))
    throw new Error(`${pkg.json.name}: no dist/ (run \`bun run build\` first)`);
  const dir = join(stageRoot, pkg.dir);
  cpSync(pkg.path, dir, {
    recursive: true,
    filter: (src) => !relative(pkg.path, src).split("/").includes("node_modules"),
  });
  const manifest = publishedManifest(pkg.json, versions);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const missing = [
    ...Object.values(manifest.exports ?? {}).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v))),
    ...Object.values(manifest.bin ?? {}),
  ].filter((p) => !existsSync(join(dir, p)));
  if (missing.length > 0)
    throw new Error(`${pkg.json.name}: published entry points missing: ${missing.join(", ")}`);
  const problems = repositoryReferences(dir);
  if (problems.length > 0) throw new Error(`${pkg.json.name}: ${problems.join("; ")}`);
  return dir;
}

/** Runs `cmd` with output captured; `timeoutMs` kills it (exit code -1). */
export function sh(cmd: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 600_000) {
  const p = Bun.spawnSync(cmd, {
    cwd,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** `sh` that must succeed: its stdout, or an error with the command, folder, exit code, stderr and stdout. */
export function must(cmd: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = sh(cmd, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} (in ${cwd}) exited ${r.code}:\n${r.err}${r.out}`);
  return r.out;
}

/** Stages and publishes every package in dependency order; returns the published names. */
export function publishAll(options: {
  registry: string;
  stageDir?: string;
  dryRun?: boolean;
  npmrc?: string;
}) {
  const packages = workspacePackages();
  const versions = new Map(packages.map((p) => [p.json.name, p.json.version]));
  const stageRoot = options.stageDir ?? mkdtempSync(join(tmpdir(), "rho1-stage-"));
  mkdirSync(stageRoot, { recursive: true });
  const published: string[] = [];
  for (const pkg of packages) {
    const dir = stage(pkg, stageRoot, versions);
    const args = ["npm", "publish", "--registry", options.registry, "--access", "public", "--tag", "latest"];
    if (options.dryRun) args.push("--dry-run");
    must(args, dir, options.npmrc ? { npm_config_userconfig: options.npmrc } : undefined);
    published.push(`${pkg.json.name}@${pkg.json.version}`);
  }
  return published;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      registry: { type: "string" },
      "stage-dir": { type: "string" },
      "dry-run": { type: "boolean" },
    },
  });
  if (!values.registry) {
    console.error("usage: bun scripts/publish.ts --registry URL [--stage-dir DIR] [--dry-run]");
    process.exit(2);
  }
  const published = publishAll({
    registry: values.registry,
    stageDir: values["stage-dir"],
    dryRun: values["dry-run"],
  });
  console.log(`published ${published.length} packages to ${values.registry}: ${published.join(", ")}`);
}
