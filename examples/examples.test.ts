/**
 * The examples stay runnable: every named import of every script resolves to a real export of its package (catches
 * API drift without running the slow stages), the two fastest examples run for real, and the demo and experiment
 * parse their options.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const DIR = import.meta.dir;
const ROOT = resolve(DIR, "..");
const scripts = readdirSync(DIR)
  .filter((f) => /^(\d\d-.*|demo|experiment)\.ts$/.test(f))
  .sort();

/** `import { a, type B, c as d } from "x"` → [{ from: "x", names: ["a", "c"] }] (type-only names dropped). */
function namedImports(code: string): { from: string; names: string[] }[] {
  const out: { from: string; names: string[] }[] = [];
  for (const m of code.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)";/gm)) {
    if (m[1]) continue;
    const names = m[2]
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "" && !s.startsWith("type "))
      .map((s) => s.split(/\s+as\s+/)[0].trim());
    out.push({ from: m[3], names });
  }
  return out;
}

function run(args: string[], timeoutMs = 20_000) {
  // RHO1_NATIVE=0: the stock cpu backend, so the test never waits for a first-use compile of the native kernels.
  const proc = Bun.spawnSync(["bun", ...args], {
    env: { ...process.env, RHO1_NATIVE: "0" },
    cwd: ROOT,
    timeout: timeoutMs,
    stderr: "pipe",
    stdout: "pipe",
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("examples", () => {
  test("the per-stage scripts exist, one per stage, each short", () => {
    expect(scripts.filter((s) => /^\d\d-/.test(s))).toEqual([
      "01-generate.ts",
      "02-tokenize-pack.ts",
      "03-score.ts",
      "04-train-reference.ts",
      "05-slm-train.ts",
      "06-eval.ts",
      "07-export.ts",
    ]);
    for (const s of scripts.filter((x) => /^\d\d-/.test(x))) {
      const lines = readFileSync(join(DIR, s), "utf8").trimEnd().split("\n").length;
      expect(lines, s).toBeLessThanOrEqual(45);
    }
  });

  test("namedImports reads named, aliased and type imports", () => {
    const code =
      'import { a, type B, c as d } from "x";\nimport type { T } from "y";\nimport {\n  e,\n  f,\n} from "./z.ts";\n';
    expect(namedImports(code)).toEqual([
      { from: "x", names: ["a", "c"] },
      { from: "./z.ts", names: ["e", "f"] },
    ]);
  });

  for (const script of scripts) {
    test(`${script}: every named import exists`, async () => {
      const code = readFileSync(join(DIR, script), "utf8");
      const imports = namedImports(code);
      expect(imports.length).toBeGreaterThan(0);
      for (const { from, names } of imports) {
        const target = from.startsWith(".") ? join(DIR, from) : from;
        // Library modules only: importing a script would run it.
        if (from.startsWith(".") && !from.startsWith("./lib/"))
          throw new Error(`${script} imports a script: ${from}`);
        const mod = (await import(target)) as Record<string, unknown>;
        for (const name of names) expect(mod[name], `${script}: ${name} from ${from}`).toBeDefined();
      }
    });
  }

  test("01-generate runs: greedy text continues the prompt", () => {
    const r = run([join(DIR, "01-generate.ts")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("5 layers, hidden 64, vocab 512");
    // The real stories260K checkpoint's greedy continuation (also a golden of @rho1/transformer).
    expect(r.stdout).toContain("[greedy]  Once upon a time, there was a little girl named Lily.");
  });

  test("02-tokenize-pack runs: packs the example corpus into 128-token rows", () => {
    const r = run([join(DIR, "02-tokenize-pack.ts")], 30_000);
    expect(r.code, r.stderr).toBe(0);
    const m = /(\d+) documents, (\d+) tokens/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBe(60);
    const rows = Number(/(\d+) rows of 128 tokens/.exec(r.stdout)?.[1]);
    // Every document adds BOS + EOS; rows = ceil(total / 128).
    expect(rows).toBe(Math.ceil((Number(m?.[2]) + 2 * 60) / 128));
  });

  test("demo and experiment print usage on --help and reject unknown options", () => {
    for (const s of ["demo.ts", "experiment.ts"]) {
      const ok = run([join(DIR, s), "--help"]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain("--fresh");
      const bad = run([join(DIR, s), "--no-such-option"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toStartWith(`${s.replace(".ts", "")}: Unknown option '--no-such-option'`);
      const badValue = run([join(DIR, s), "--steps", "0"]);
      expect(badValue.code).toBe(2);
      expect(badValue.stderr).toContain("--steps: expected");
    }
  });
});
