import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlasChooser, blasMode } from "./blas.ts";

/** A fake product: records which BLAS ran and busy-waits `ms[which]` milliseconds. */
function fake(ms: [number, number]) {
  const calls: number[] = [];
  const call = (which: 0 | 1) => {
    calls.push(which);
    const end = performance.now() + ms[which];
    while (performance.now() < end) {
      // busy
    }
  };
  return { calls, call };
}

const BIG = 2 ** 30;

describe("RHO1_BLAS", () => {
  test("parses the three modes, defaults to auto, and names the accepted values otherwise", () => {
    const pinned = process.env.RHO1_BLAS; // CI pins a BLAS for the whole suite: test the unset default here
    delete process.env.RHO1_BLAS;
    try {
      expect(blasMode()).toBe("auto");
    } finally {
      if (pinned !== undefined) process.env.RHO1_BLAS = pinned;
    }
    expect(blasMode("")).toBe("auto");
    expect(blasMode(" BuiltIn ")).toBe("builtin");
    expect(blasMode("openblas")).toBe("openblas");
    expect(() => blasMode("mkl")).toThrow("RHO1_BLAS=mkl: expected one of builtin, openblas, auto");
  });

  test("builtin and openblas modes never time; auto without OpenBLAS or on small products uses the built-in", () => {
    for (const [mode, openblas, flops, want] of [
      ["builtin", true, BIG, 0],
      ["openblas", true, BIG, 1],
      ["auto", false, BIG, 0],
      ["auto", true, 1000, 0],
    ] as const) {
      const f = fake([0, 0]);
      new BlasChooser(mode, openblas, null).run("s", flops, f.call);
      expect([mode, flops, f.calls]).toEqual([mode, flops, [want]]);
    }
  });

  test("auto times both on first use, ends on the winner, remembers it on disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "rho1-blas-"));
    try {
      const file = BlasChooser.fileFor(dir, ["test"]);
      const chooser = new BlasChooser("auto", true, file);
      const slowOpen = fake([1, 10]);
      chooser.run("00 64x64x64", BIG, slowOpen.call);
      expect(slowOpen.calls).toEqual([0, 1, 0, 1, 0]); // the built-in won and writes the result last
      const fastOpen = fake([10, 1]);
      chooser.run("01 8x8x8", BIG, fastOpen.call);
      expect(fastOpen.calls).toEqual([0, 1, 0, 1]);
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
        "00 64x64x64": "builtin",
        "01 8x8x8": "openblas",
      });
      const again = new BlasChooser("auto", true, file); // a new process: no timing
      const f = fake([0, 0]);
      again.run("00 64x64x64", BIG, f.call);
      again.run("01 8x8x8", BIG, f.call);
      expect(f.calls).toEqual([0, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
