// Every package's manifest says exactly what its code imports: each package imported by non-test source is in
// `dependencies` (or `peerDependencies`), each imported only by tests is in `devDependencies`, nothing listed goes
// unimported, and a third-party package has one version string wherever it is listed. Prints one line per problem
// and exits 1 if there is any. Imports are read from the source text (static, re-exports, and literal dynamic
// imports); a dynamic import of a computed name is invisible here, so such packages are optional peers.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { filesUnder, isTestCode } from "../scripts/packages.ts";

const root = resolve(import.meta.dir, "..");
const packagesDir = join(root, "packages");

/** Source files: TypeScript and JavaScript, not declarations. */
const sourceFiles = (dir: string) =>
  filesUnder(dir).filter((path) => /\.(ts|tsx|mts|js|mjs)$/.test(path) && !path.endsWith(".d.ts"));

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?\bfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** The package a specifier names: "@scope/name" or "name"; null for relative paths and built-ins. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return null;
  if (/^(node|bun):/.test(specifier) || specifier === "bun" || specifier === "bun:test") return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

type Manifest = {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
};

const problems: string[] = [];
const versions = new Map<string, Map<string, string[]>>(); // package -> field:version -> manifests

for (const dir of readdirSync(packagesDir).sort()) {
  const manifestPath = join(packagesDir, dir, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
  const where = relative(root, manifestPath);
  const runtime = new Set<string>();
  const testOnly = new Set<string>();
  const src = join(packagesDir, dir, "src");
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(SPECIFIER)) {
      const pkg = packageOf((match[1] ?? match[2] ?? match[3]) as string);
      if (pkg === null || pkg === manifest.name) continue;
      (isTestCode(relative(src, file)) ? testOnly : runtime).add(pkg);
    }
  }
  for (const pkg of runtime) testOnly.delete(pkg);
  const deps = manifest.dependencies ?? {};
  const peers = manifest.peerDependencies ?? {};
  const devs = manifest.devDependencies ?? {};
  for (const pkg of runtime) {
    if (!(pkg in deps) && !(pkg in peers))
      problems.push(`${where}: src imports ${pkg} at run time; add it to dependencies (or peerDependencies)`);
  }
  for (const pkg of testOnly) {
    if (pkg in deps) problems.push(`${where}: ${pkg} is imported only by tests; move it to devDependencies`);
    else if (!(pkg in devs) && !(pkg in peers))
      problems.push(`${where}: tests import ${pkg}; add it to devDependencies`);
  }
  for (const pkg of Object.keys(deps)) {
    if (!runtime.has(pkg) && !testOnly.has(pkg))
      problems.push(`${where}: dependency ${pkg} is never imported by src; remove it`);
  }
  // One TensorFlow.js for the whole application: a library that brings its own copy registers kernels and
  // backends into a second engine that the model never uses.
  if ("@tensorflow/tfjs-core" in deps)
    problems.push(
      `${where}: @tensorflow/tfjs-core belongs in peerDependencies (and devDependencies), not dependencies`,
    );
  for (const pkg of Object.keys(peers)) {
    const optional = manifest.peerDependenciesMeta?.[pkg]?.optional === true;
    if (!optional && !runtime.has(pkg))
      problems.push(`${where}: peer dependency ${pkg} is never imported by src`);
  }
  for (const pkg of Object.keys(devs)) {
    if (!runtime.has(pkg) && !testOnly.has(pkg) && !(pkg in peers))
      problems.push(`${where}: devDependency ${pkg} is never imported; remove it`);
  }
  for (const [field, table] of [
    ["dependencies", deps],
    ["peerDependencies", peers],
    ["devDependencies", devs],
  ] as const) {
    for (const [pkg, version] of Object.entries(table)) {
      if (version.startsWith("workspace:")) continue;
      const key = `${field === "peerDependencies" ? "peer" : "installed"} ${version}`;
      const seen = versions.get(pkg) ?? new Map<string, string[]>();
      seen.set(key, [...(seen.get(key) ?? []), where]);
      versions.set(pkg, seen);
    }
  }
}

for (const [pkg, seen] of versions) {
  for (const kind of ["peer", "installed"]) {
    const specs = [...seen.keys()].filter((k) => k.startsWith(kind));
    if (specs.length > 1) {
      const list = specs.map((s) => `${s.slice(kind.length + 1)} (${seen.get(s)?.join(", ")})`).join(" vs ");
      problems.push(`${pkg}: ${kind === "peer" ? "peer ranges" : "versions"} differ: ${list}`);
    }
  }
}

for (const p of problems) console.log(`manifest-check: ${p}`);
console.log(
  `manifest-check: ${readdirSync(packagesDir).length} packages, ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
);
process.exit(problems.length ? 1 : 0);
