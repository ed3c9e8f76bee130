import { dlopen, FFIType, suffix } from "bun:ffi";
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildOnce, findCompiler, type NativeBuild, NativeUnavailable } from "./index.ts";

const work = mkdtempSync(join(tmpdir(), "rho1-native-build-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sourceDir = join(work, "src");
mkdirSync(sourceDir);
writeFileSync(join(sourceDir, "add.h"), "int add_ints(int a, int b);\n");
writeFileSync(
  join(sourceDir, "add.c"),
  '#include "add.h"\nint add_ints(int a, int b) { return a + b + OFFSET; }\n',
);

const build = (over: Partial<NativeBuild> = {}): NativeBuild => ({
  sourceDir,
  compilers: [process.env.CC, "cc", "gcc"],
  // The first flag set does not compile (no such flag); the second does and defines OFFSET.
  flagSets: [
    ["-shared", "-fPIC", "--no-such-flag-rho1"],
    ["-shared", "-fPIC", "-O2", "-DOFFSET=1000"],
  ],
  libs: [],
  cacheDir: join(work, "cache"),
  noCompiler: "install gcc",
  ...over,
});

test("compiles once with the first flag set that works, then serves the cached library without a compiler", async () => {
  if (!findCompiler([process.env.CC, "cc", "gcc"])) throw new Error("this test needs a C compiler (gcc)");
  const first = await buildOnce(build());
  expect(first.compiled).toBe(true);
  expect(first.flags).toEqual(["-shared", "-fPIC", "-O2", "-DOFFSET=1000"]);
  const lib = dlopen(first.library, { add_ints: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  expect(lib.symbols.add_ints(2, 3)).toBe(1005);
  lib.close();
  // No temporaries left behind: the library and its flags record only.
  expect(readdirSync(build().cacheDir).sort()).toEqual(
    [`${first.key}.${suffix}`, `${first.key}.${suffix}.json`].sort(),
  );

  const cached = await buildOnce(build({ compilers: ["/nonexistent/cc"] }));
  expect(cached).toEqual({ ...first, compiled: false });
});

test("a changed source is a new build; no compiler and nothing cached is NativeUnavailable naming what to install", async () => {
  writeFileSync(join(sourceDir, "add.h"), "int add_ints(int a, int b); /* changed */\n");
  const attempt = buildOnce(build({ compilers: ["/nonexistent/cc", undefined] }));
  await expect(attempt).rejects.toBeInstanceOf(NativeUnavailable);
  await expect(buildOnce(build({ compilers: ["/nonexistent/cc"] }))).rejects.toThrow("install gcc");
});

test("every flag set failing is NativeUnavailable with the compiler's error for each", async () => {
  if (!findCompiler(["cc", "gcc"])) throw new Error("this test needs a C compiler (gcc)");
  const attempt = buildOnce(
    build({ flagSets: [["-shared", "--no-such-flag-rho1"]], cacheDir: join(work, "c2") }),
  );
  await expect(attempt).rejects.toThrow(/--no-such-flag-rho1: .*no-such-flag-rho1/);
  expect(existsSync(join(work, "c2")) && readdirSync(join(work, "c2")).length).toBe(0);
});
