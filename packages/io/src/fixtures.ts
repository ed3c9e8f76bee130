import { existsSync } from "node:fs";
import { IoError } from "./error.ts";

/**
 * Whether the test fixtures at `paths` exist, for `test.skipIf(!fixturesPresent(...))`. With
 * RHO1_REQUIRE_FIXTURES=1 (CI, which has the project's shared fixtures beside the clone) a missing fixture is an error instead, so a
 * golden test can never pass by skipping.
 */
export function fixturesPresent(...paths: string[]): boolean {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length && process.env.RHO1_REQUIRE_FIXTURES === "1") {
    throw new IoError("missing_fixtures", `RHO1_REQUIRE_FIXTURES=1 but missing: ${missing.join(", ")}`, {
      missing,
    });
  }
  return missing.length === 0;
}
