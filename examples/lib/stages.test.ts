import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPath, Pipeline } from "./stages.ts";

const dir = mkdtempSync(join(tmpdir(), "rho1-stages-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two stages: "make a" (options {tag}, writes `content` to a.txt), then "make b" (reads a.txt). */
async function pipeline(tag: string, content: string, fresh = false, backend = "cpu") {
  const p = new Pipeline({ workDir: dir, backend, fresh, log: () => {} });
  const ran: string[] = [];
  const a = join(dir, "a.txt");
  const b = join(dir, "b.txt");
  await p.stage("make a", { options: { tag }, outputs: [a] }, () => {
    ran.push("a");
    writeFileSync(a, content);
  });
  await p.stage("make b", { inputs: [a], outputs: [b] }, () => {
    ran.push("b");
    writeFileSync(b, "b");
  });
  return { ran, records: p.records };
}

test("reuses stages whose options and input bytes are unchanged", async () => {
  expect((await pipeline("t1", "x")).ran).toEqual(["a", "b"]);
  const again = await pipeline("t1", "x");
  expect(again.ran).toEqual([]);
  expect(again.records.map((r) => r.reused)).toEqual([true, true]);
  // New options rerun "make a"; it writes the same bytes, so "make b" is still reused.
  expect((await pipeline("t2", "x")).ran).toEqual(["a"]);
  // New options and new bytes: both rerun.
  expect((await pipeline("t3", "y")).ran).toEqual(["a", "b"]);
  expect((await pipeline("t3", "y", true)).ran).toEqual(["a", "b"]);
  // Another backend is asked for its own results: every stage reruns, once.
  expect((await pipeline("t3", "y", false, "webgpu")).ran).toEqual(["a", "b"]);
  expect((await pipeline("t3", "y", false, "webgpu")).ran).toEqual([]);
});

test("a missing output forces a rerun; a stage that writes nothing is an error", async () => {
  await pipeline("t5", "z");
  rmSync(join(dir, "b.txt"));
  expect((await pipeline("t5", "z")).ran).toEqual(["b"]);
  const p = new Pipeline({ workDir: dir, backend: "cpu", log: () => {} });
  await expect(p.stage("lazy", { outputs: [join(dir, "never")] }, () => {})).rejects.toThrow(
    "stage lazy: finished without writing",
  );
});

test("hashPath covers a folder's file names and bytes", () => {
  const d = join(dir, "folder");
  expect(hashPath(d)).toBe("missing");
  mkdirSync(d);
  writeFileSync(join(d, "f1"), "x");
  writeFileSync(join(d, "f2"), "y");
  const h = hashPath(d);
  expect(h).toMatch(/^[0-9a-f]{64}$/);
  writeFileSync(join(d, "x.tmp-123"), "ignored: half-written");
  expect(hashPath(d)).toBe(h);
  renameSync(join(d, "f2"), join(d, "f3"));
  expect(hashPath(d)).not.toBe(h);
  renameSync(join(d, "f3"), join(d, "f2"));
  writeFileSync(join(d, "f1"), "X");
  expect(hashPath(d)).not.toBe(h);
});
