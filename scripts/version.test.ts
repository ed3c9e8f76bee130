import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./packages.ts";
import { manifests, setVersion } from "./version.ts";

const tmp = mkdtempSync(join(tmpdir(), "rho1-version-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("one version on every manifest; the CHANGELOG's Unreleased section becomes the release", () => {
  for (const rel of manifests(ROOT)) {
    mkdirSync(join(tmp, rel, ".."), { recursive: true });
    cpSync(join(ROOT, rel), join(tmp, rel));
  }
  writeFileSync(join(tmp, "CHANGELOG.md"), "# Changelog\n\n## Unreleased\n\n- a change\n");
  const changed = setVersion(tmp, "1.2.3", "2026-12-05");
  expect(changed.length).toBeGreaterThanOrEqual(12);
  expect(changed).toContain("packages/selective-loss/package.json");
  for (const rel of changed) {
    const json = JSON.parse(readFileSync(join(tmp, rel), "utf8"));
    expect(json.version).toBe("1.2.3");
    // other fields untouched (dependencies keep workspace:*)
    expect(JSON.stringify(json)).toBe(
      JSON.stringify({ ...JSON.parse(readFileSync(join(ROOT, rel), "utf8")), version: "1.2.3" }),
    );
  }
  expect(readFileSync(join(tmp, "CHANGELOG.md"), "utf8")).toBe(
    "# Changelog\n\n## Unreleased\n\n## 1.2.3 (2026-12-05)\n\n- a change\n",
  );
  expect(() => setVersion(tmp, "1.2")).toThrow("expected X.Y.Z");
});
