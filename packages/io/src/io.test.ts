import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  fixturesPresent,
  IoError,
  parseJsonLines,
  Rho1Error,
  readJsonLines,
  syncFile,
  writeFileAtomic,
} from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "rho1-io-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  test("writes strings, bytes and chunk lists, replacing the old file and leaving no temporary", () => {
    const path = join(dir, "a.txt");
    writeFileAtomic(path, "old");
    writeFileAtomic(path, [new Uint8Array([104, 105]), new Uint8Array([]), new Uint8Array([33])]);
    expect(readFileSync(path, "utf8")).toBe("hi!");
    writeFileAtomic(path, new Uint8Array([120]));
    expect(readFileSync(path, "utf8")).toBe("x");
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("RHO1_FSYNC=0 skips fsync (benchmarks measure its cost) and keeps the temp file + rename", () => {
    // fsync of a bad descriptor fails only when fsync runs: proof that the switch gates it.
    expect(() => syncFile(1 << 20)).toThrow("EBADF");
    process.env.RHO1_FSYNC = "0";
    try {
      syncFile(1 << 20);
      const path = join(dir, "unsynced.txt");
      writeFileAtomic(path, "whole");
      expect(readFileSync(path, "utf8")).toBe("whole");
      expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
    } finally {
      delete process.env.RHO1_FSYNC;
    }
    expect(() => syncFile(1 << 20)).toThrow("EBADF");
  });

  test("a failure before the rename keeps the old file and removes the temporary", () => {
    const path = join(dir, "b.txt");
    writeFileAtomic(path, "kept");
    expect(() =>
      writeFileAtomic(path, "lost", {
        beforeRename: () => {
          throw new Error("killed");
        },
      }),
    ).toThrow("killed");
    expect(readFileSync(path, "utf8")).toBe("kept");
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
  });

  test("creates the parent folder only when asked", () => {
    expect(() => writeFileAtomic(join(dir, "no/such/c.txt"), "x")).toThrow();
    writeFileAtomic(join(dir, "made/c.txt"), "x", { mkdir: true });
    expect(readFileSync(join(dir, "made/c.txt"), "utf8")).toBe("x");
  });
});

describe("JSON lines", () => {
  const text = `{"text":"a\u2028b"}\r\n\n{"text":"c\u2029d"}\n{"text":"e"}`;
  const expected = [
    { line: 1, value: { text: "a\u2028b" } },
    { line: 3, value: { text: "c\u2029d" } },
    { line: 4, value: { text: "e" } },
  ];

  test("split on \\n only (U+2028/U+2029 stay inside records), \\r dropped, blank lines counted", async () => {
    expect([...parseJsonLines(text, "mem")]).toEqual(expected);
    const path = join(dir, "docs.jsonl");
    writeFileSync(path, text);
    const read = [];
    for await (const record of readJsonLines(path)) read.push(record);
    expect(read).toEqual(expected);
  });

  test("records split across stream chunks (inside a multi-byte character) are joined", async () => {
    const bytes = new TextEncoder().encode('{"t":"é"}\n{"t":"ü"}\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.subarray(i, i + 3));
        controller.close();
      },
    });
    const read = [];
    for await (const record of readJsonLines(stream, "stdin")) read.push(record.value);
    expect(read).toEqual([{ t: "é" }, { t: "ü" }]);
  });

  test("a bad line is an IoError naming the source and line", async () => {
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, '{"a":1}\n\n{"a":\n');
    let caught: unknown;
    try {
      for await (const _ of readJsonLines(path));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(IoError);
    expect(caught).toBeInstanceOf(Rho1Error);
    expect((caught as IoError).code).toBe("bad_json");
    expect((caught as IoError).message).toBe(`${path}:3: not valid JSON: {"a":`);
    expect((caught as IoError).details).toEqual({ file: path, line: 3 });
    expect(() => [...parseJsonLines("1\n[", "stdin")]).toThrow("stdin:2: not valid JSON: [");
  });

  test("a missing file is an IoError", async () => {
    const read = async () => {
      for await (const _ of readJsonLines(join(dir, "none.jsonl")));
    };
    await expect(read()).rejects.toThrow(/none.jsonl: no such file/);
  });
});

describe("fixturesPresent", () => {
  test("true when every path exists, false when one is missing, an error under RHO1_REQUIRE_FIXTURES=1", () => {
    const before = process.env.RHO1_REQUIRE_FIXTURES;
    try {
      delete process.env.RHO1_REQUIRE_FIXTURES;
      expect(fixturesPresent(dir)).toBe(true);
      expect(fixturesPresent(dir, join(dir, "absent"))).toBe(false);
      process.env.RHO1_REQUIRE_FIXTURES = "1";
      expect(fixturesPresent(dir)).toBe(true);
      expect(() => fixturesPresent(join(dir, "absent"))).toThrow(
        /RHO1_REQUIRE_FIXTURES=1 but missing: .*absent/,
      );
    } finally {
      if (before === undefined) delete process.env.RHO1_REQUIRE_FIXTURES;
      else process.env.RHO1_REQUIRE_FIXTURES = before;
    }
  });
});
