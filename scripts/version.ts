/**
 * `bun run version X.Y.Z`: sets one version on every package of the monorepo (packages/* discovered, plus the
 * private root, examples and benchmarks manifests) and turns CHANGELOG.md's "## Unreleased" section into
 * "## X.Y.Z (date)" under a fresh, empty "## Unreleased". Workspace dependencies stay `workspace:*`; the publish
 * step pins them to this version.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./packages.ts";

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** The package.json files that carry the version, relative to root. */
export function manifests(root: string): string[] {
  const packages = readdirSync(join(root, "packages"))
    .map((dir) => join("packages", dir, "package.json"))
    .filter((p) => existsSync(join(root, p)));
  return ["package.json", "examples/package.json", "benchmarks/package.json", ...packages].filter((p) =>
    existsSync(join(root, p)),
  );
}

export function setVersion(
  root: string,
  version: string,
  date = new Date().toISOString().slice(0, 10),
): string[] {
  if (!SEMVER.test(version))
    throw new Error(`version: expected X.Y.Z (semver), found ${JSON.stringify(version)}`);
  const changed = manifests(root);
  for (const rel of changed) {
    const path = join(root, rel);
    const text = readFileSync(path, "utf8");
    // Only the top-level "version" field, keeping the file's formatting and key order.
    const updated = text.replace(/^(\s{2}"version":\s*)"[^"]*"/m, `$1"${version}"`);
    if (updated === text && !text.includes(`"version": "${version}"`))
      throw new Error(`${rel}: no top-level "version" field`);
    writeFileSync(path, updated);
  }
  const changelog = join(root, "CHANGELOG.md");
  if (existsSync(changelog)) {
    const text = readFileSync(changelog, "utf8");
    if (text.includes("## Unreleased") && !text.includes(`## ${version} `))
      writeFileSync(changelog, text.replace("## Unreleased", `## Unreleased\n\n## ${version} (${date})`));
  }
  return changed;
}

if (import.meta.main) {
  const version = process.argv[2];
  if (!version) {
    console.error("usage: bun run version X.Y.Z");
    process.exit(2);
  }
  try {
    const changed = setVersion(ROOT, version);
    console.log(`version ${version}: ${changed.length} manifests, CHANGELOG.md`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}
