/**
 * Reads a >= 1 GB BF16 safetensors file (written by our writer into a temp dir) into Float32Arrays and compares the
 * throughput with a plain memory copy of the same mapped bytes, measured in the same run. Prints the ratio last.
 *
 *   bun benchmarks/safetensors/run.ts [--gb 1] [--reps 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors, type TensorToWrite, writeSafetensors } from "@rho1/safetensors";
import { benchArgs } from "../lib/args.ts";

const values = benchArgs(
  { gb: { type: "string", default: "1" }, reps: { type: "string", default: "3" } },
  {
    usage:
      "Read throughput of a BF16 safetensors file into Float32Arrays; anchor: a plain memory copy of the same mapped bytes, same run.",
    describe: { gb: "file size in GiB", reps: "timed repetitions" },
  },
);
const totalBytes = Math.round(Number(values.gb) * 2 ** 30);
const reps = Number(values.reps);
const TENSOR_ELEMENTS = 8 * 2 ** 20; // 16 MB of bf16 per tensor, a typical large weight matrix
const count = Math.ceil(totalBytes / (TENSOR_ELEMENTS * 2));

const dir = mkdtempSync(join(tmpdir(), "rho1-bench-safetensors-"));
try {
  const path = join(dir, "bench.safetensors");
  // Distinct bit patterns per tensor (a cheap LCG), so nothing can be shortcut.
  const tensors = new Map<string, TensorToWrite>();
  for (let t = 0; t < count; t++) {
    const bits = new Uint16Array(TENSOR_ELEMENTS);
    let x = t + 1;
    for (let i = 0; i < bits.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      bits[i] = (x >>> 16) & 0xbfff; // clear the top exponent bit: finite values
    }
    tensors.set(`layers.${t}.weight`, { dtype: "BF16", shape: [4096, 2048], data: bits });
  }
  let start = performance.now();
  await writeSafetensors(path, tensors);
  const writeSeconds = (performance.now() - start) / 1000;
  tensors.clear();

  const source = openSafetensors(path);
  const dataBytes = source.names.reduce((sum, n) => sum + source.info(n).end - source.info(n).begin, 0);
  const gb = dataBytes / 1e9;
  const target = new Uint8Array(TENSOR_ELEMENTS * 2);

  const reuse = new Float32Array(TENSOR_ELEMENTS);
  let checksum = 0;
  const passes: Record<string, () => void> = {
    // ours, as the API is normally used: a fresh Float32Array per tensor (pays page faults for 2x the bytes)
    widenFresh: () => {
      for (const name of source.names) {
        const x = source.readFloat32(name);
        checksum += x[x.length - 1];
      }
    },
    // ours into a reused buffer (readFloat32(name, out)): the conversion itself
    widenReuse: () => {
      for (const name of source.names) checksum += source.readFloat32(name, reuse)[TENSOR_ELEMENTS - 1];
    },
    // anchor: a plain memory copy of the same mapped bytes into a reused buffer (memcpy)
    copy: () => {
      for (const name of source.names) target.set(source.readBytes(name));
    },
    // anchor with allocation: a copy of the same bytes into a fresh buffer per tensor
    copyFresh: () => {
      for (const name of source.names) checksum += source.readBytes(name).slice()[0];
    },
  };
  const best: Record<string, number> = {};
  // Warm-up: fault the mapping in and let the JIT compile every loop.
  for (const [label, pass] of Object.entries(passes)) {
    pass();
    best[label] = Number.POSITIVE_INFINITY;
  }
  for (let r = 0; r < reps; r++) {
    for (const [label, pass] of Object.entries(passes)) {
      start = performance.now();
      pass();
      best[label] = Math.min(best[label], (performance.now() - start) / 1000);
    }
  }
  const rate = (label: string) => gb / best[label];
  const show = (label: string, what: string) =>
    console.log(
      `  ${what.padEnd(58)} ${rate(label).toFixed(2).padStart(6)} GB/s (${best[label].toFixed(3)} s)`,
    );
  console.log(
    `file: ${count} BF16 tensors, ${gb.toFixed(3)} GB of data; written in ${writeSeconds.toFixed(2)} s (${(gb / writeSeconds).toFixed(2)} GB/s)`,
  );
  console.log(`best of ${reps}, GB/s of BF16 bytes read (checksum ${checksum.toFixed(3)})`);
  show("widenFresh", "ours   readFloat32(name): BF16 -> new Float32Array");
  show("widenReuse", "ours   readFloat32(name, out): BF16 -> reused Float32Array");
  show("copyFresh", "anchor copy of the same bytes into a new buffer (slice)");
  show("copy", "anchor copy of the same bytes into a reused buffer (memcpy)");
  console.log(
    `ratio ours/copy, fresh arrays (readFloat32 / slice): ${(rate("widenFresh") / rate("copyFresh")).toFixed(3)}`,
  );
  console.log(
    `ratio ours/copy, reused buffers (readFloat32(name, out) / memcpy): ${(rate("widenReuse") / rate("copy")).toFixed(3)}`,
  );
  source.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
