import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSafetensors } from "@rho1/safetensors";
import { CausalLM, tf } from "@rho1/transformer";
import { cliCommand, STORIES, tempDir } from "./test-support.ts";

const tmp = tempDir("rho1-logits-");

const rho1 = cliCommand("logits");

function input(name: string, json: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

test("writes logits [B,T,V] and token_loss [B,T-1] equal to the library's, padding zeroed", async () => {
  const ids = [
    [1, 403, 407, 261, 378, 432],
    [1, 291, 280, 294, 0, 0],
  ];
  const mask = [
    [1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0, 0],
  ];
  const out = join(tmp, "out.safetensors");
  const r = rho1(
    "--model",
    STORIES,
    "--input",
    input("in.json", { input_ids: ids, attention_mask: mask }),
    "--out",
    out,
  );
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("logits [2, 6, 512], token_loss [2, 5]");
  const file = openSafetensors(out);
  expect(file.info("logits")).toMatchObject({ dtype: "F32", shape: [2, 6, 512] });
  expect(file.info("token_loss")).toMatchObject({ dtype: "F32", shape: [2, 5] });

  tf.setBackend("cpu");
  const model = await CausalLM.load(STORIES);
  const idsT = tf.tensor2d(ids, undefined, "int32");
  const maskT = tf.tensor2d(mask);
  const want = model.logits(idsT, maskT).dataSync();
  const got = file.readFloat32("logits");
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
  const ce = model.tokenLosses(idsT, maskT).ce.dataSync();
  const loss = file.readFloat32("token_loss");
  for (let i = 0; i < ce.length; i++) expect(Math.abs(loss[i] - ce[i])).toBeLessThan(1e-5);
  expect(Array.from(loss.subarray(8))).toEqual([0, 0]); // row 1, positions 3 and 4 predict padding
  expect(loss[0]).toBeGreaterThan(0);
  model.dispose();
});

test("bad input exits 1 with one line naming the file and field; bad usage exits 2", () => {
  const out = join(tmp, "bad.safetensors");
  const cases: [unknown, string][] = [
    [{ input_ids: [[1, 2, 512]] }, '"input_ids"[0][2] must be a token id in [0, 512), found 512'],
    [{ input_ids: [[1, 2], [1]] }, '"input_ids" row 1 has 1 entries, row 0 has 2'],
    [
      { input_ids: [[1, 2]], attention_mask: [[1, 1, 1]] },
      '"attention_mask" is [1, 3] but "input_ids" is [1, 2]',
    ],
    [{ input_ids: [[1, 2]], attention_mask: [[1, 2]] }, '"attention_mask"[0][1] must be 0 or 1, found 2'],
    [{ ids: [[1]] }, '"input_ids" must be a non-empty array of rows'],
    [[[1, 2], [3]], '"input_ids" row 1 has 1 entries, row 0 has 2'], // the bare form is input_ids
  ];
  cases.forEach(([json, message], i) => {
    const file = input(`bad${i}.json`, json);
    const r = rho1("--model", STORIES, "--input", file, "--out", out);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(`rho1 logits: ${file}: ${message}`);
  });
  const missing = rho1("--model", STORIES, "--input", input("ok.json", { input_ids: [[1, 2]] }));
  expect(missing.code).toBe(2);
  expect(missing.stderr).toBe("rho1 logits: missing required option --out\n");
  const absent = rho1("--model", STORIES, "--input", join(tmp, "no-such-ids.json"), "--out", out);
  expect(absent.code).toBe(1);
  expect(absent.stderr).toContain("no-such-ids.json: ENOENT");
}, 60_000);

test("a bare [[ids]] array is read as input_ids", () => {
  const out = join(tmp, "bare.safetensors");
  const r = rho1("--model", STORIES, "--input", input("bare.json", [[1, 403, 407, 261]]), "--out", out);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("logits [1, 4, 512]");
}, 30_000);
