import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { openSafetensorsBytes, SafetensorsError, type SafetensorsFile } from "./index.ts";

/**
 * Mutates golden files (truncations, flipped bytes, edited header JSON, edited length field) many times. The only
 * acceptable outcomes: a SafetensorsError, or a file that opens and whose every tensor is exactly the bytes its
 * (validated) header points at, with the tensors tiling the data section. Data-only flips must change exactly the
 * tensor that holds the flipped byte.
 */

const FIXTURES = join(import.meta.dir, "../../../../shared/fixtures/models");
const STORIES = join(import.meta.dir, "../../../models/stories260K/model.safetensors");
const GOLDEN = [
  STORIES,
  join(FIXTURES, "llama-f16/model.safetensors"),
  join(FIXTURES, "stories260K.expected.safetensors"),
  join(FIXTURES, "llama-tied-bf16-sharded/model-00001-of-00016.safetensors"),
  join(FIXTURES, "llama-tied-bf16-sharded/model-00006-of-00016.safetensors"),
].filter((f) => fixturesPresent(f));

const ITERATIONS = 12_000;

/** mulberry32: small, seeded, good enough to spread mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
  };
}

type Rng = ReturnType<typeof prng>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function headerOf(bytes: Uint8Array): { n: number; text: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, text: decoder.decode(bytes.subarray(8, 8 + n)) };
}

function withHeader(original: Uint8Array, text: string, rng: Rng): Uint8Array {
  const { n } = headerOf(original);
  const json = encoder.encode(text);
  const data = original.subarray(8 + n);
  const out = new Uint8Array(8 + json.length + data.length);
  // Usually a consistent length field; sometimes the stale one, so the header/data boundary moves.
  const declared = rng.next() < 0.85 ? json.length : n;
  new DataView(out.buffer).setBigUint64(0, BigInt(declared), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const DTYPE_WORDS = [
  "F32",
  "F16",
  "BF16",
  "F64",
  "I64",
  "I8",
  "U8",
  "BOOL",
  "F8_E4M3",
  "U64",
  "F31",
  "f32",
  "",
];
const JUNK = ['"', "{", "}", "[", "]", ",", ":", "\\", "-", "0", "9", "e", ".", " ", "\u00e9", "\u0000"];

/** Semantic edits of the header JSON text. */
function editHeader(text: string, rng: Rng): string {
  switch (rng.int(7)) {
    case 0: {
      // change one number (a shape dim or an offset)
      const numbers = [...text.matchAll(/-?\d+/g)];
      if (numbers.length === 0) return `${text}0`;
      const m = rng.pick(numbers);
      const value = Number(m[0]);
      const replacement = rng.pick([value + 1, value - 1, 0, -value, value * 2, 2 ** 53, 1e20, value + 0.5]);
      return text.slice(0, m.index) + String(replacement) + text.slice((m.index ?? 0) + m[0].length);
    }
    case 1: {
      // change a dtype
      const dtypes = [...text.matchAll(/"dtype":"([A-Z0-9_]+)"/g)];
      if (dtypes.length === 0) return text;
      const m = rng.pick(dtypes);
      const at = (m.index ?? 0) + 9;
      return text.slice(0, at) + rng.pick(DTYPE_WORDS) + text.slice(at + m[1].length);
    }
    case 2: {
      // delete a span
      const at = rng.int(text.length);
      return text.slice(0, at) + text.slice(at + 1 + rng.int(12));
    }
    case 3: {
      // insert junk
      const at = rng.int(text.length + 1);
      return text.slice(0, at) + rng.pick(JUNK) + text.slice(at);
    }
    case 4: {
      // duplicate a tensor entry (same name) or rename one to another's name
      const names = [...text.matchAll(/"([^"]+)":\{"dtype"/g)];
      if (names.length === 0) return text;
      const m = rng.pick(names);
      const other = rng.pick(names)[1];
      return `${text.slice(0, m.index)}"${other}"${text.slice((m.index ?? 0) + m[1].length + 2)}`;
    }
    case 5: {
      // swap two shape arrays
      const shapes = [...text.matchAll(/"shape":\[[^\]]*\]/g)];
      if (shapes.length < 2) return text;
      const a = rng.pick(shapes);
      const b = rng.pick(shapes);
      if (a === b || (a.index ?? 0) > (b.index ?? 0)) return text;
      return (
        text.slice(0, a.index) +
        b[0] +
        text.slice((a.index ?? 0) + a[0].length, b.index) +
        a[0] +
        text.slice((b.index ?? 0) + b[0].length)
      );
    }
    default: {
      // replace a field name
      return text.replace(
        rng.pick(['"shape"', '"dtype"', '"data_offsets"', '"__metadata__"']),
        rng.pick(['"shapes"', '"x"', '"dtype"']),
      );
    }
  }
}

/** Everything a reader could hand out must agree with the bytes its header describes. */
/** `widen` picks the one tensor also converted (converting all of them every time would dominate the run time). */
function checkConsistent(source: SafetensorsFile, bytes: Uint8Array, widen: number) {
  const dataStart = source.dataStart;
  let covered = 0;
  for (const name of source.names) {
    const info = source.info(name);
    const raw = source.readBytes(name);
    const numel = info.shape.reduce((a, b) => a * b, 1);
    const widths: Record<string, number> = {
      F64: 8,
      I64: 8,
      U64: 8,
      F32: 4,
      I32: 4,
      U32: 4,
      F16: 2,
      BF16: 2,
      I16: 2,
      U16: 2,
    };
    if (raw.length !== numel * (widths[info.dtype] ?? 1))
      throw new Error(`${name}: ${raw.length} bytes for ${numel} elements`);
    const stored = bytes.subarray(dataStart + info.begin, dataStart + info.end);
    if (!Buffer.from(raw).equals(Buffer.from(stored)))
      throw new Error(`${name}: bytes differ from the stored range`);
    if (name === source.names[widen % source.names.length]) {
      if (source.readFloat32(name).length !== numel) throw new Error(`${name}: wrong float32 length`);
      if (source.read(name).length !== numel) throw new Error(`${name}: wrong native length`);
    }
    covered += raw.length;
  }
  if (covered !== bytes.length - dataStart)
    throw new Error(`tensors cover ${covered} of ${bytes.length - dataStart} data bytes`);
}

test.skipIf(GOLDEN.length < 2)(
  `fuzz: ${ITERATIONS} mutations of golden files give only SafetensorsError or consistent tensors`,
  () => {
    const rng = prng(20260);
    const goldens = GOLDEN.map((path) => {
      const bytes = new Uint8Array(readFileSync(path));
      const source = openSafetensorsBytes(bytes, path);
      const snapshot = new Map(source.names.map((n) => [n, Buffer.from(source.readBytes(n))]));
      return {
        path,
        bytes,
        dataStart: source.dataStart,
        snapshot,
        infos: source.names.map((n) => source.info(n)),
      };
    });
    const outcomes = { error: 0, opened: 0, dataFlips: 0 };
    const codes = new Map<string, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const golden = rng.pick(goldens);
      const kind = rng.int(5);
      let mutated: Uint8Array;
      let dataFlip = -1;
      if (kind === 0) {
        mutated = golden.bytes.slice(0, rng.int(golden.bytes.length));
      } else if (kind === 1) {
        // flip bytes in the length field or header
        mutated = golden.bytes.slice();
        for (let k = 1 + rng.int(3); k > 0; k--) mutated[rng.int(golden.dataStart)] ^= 1 << rng.int(8);
      } else if (kind === 2) {
        // flip one byte in the data section: must open, and only that tensor changes
        mutated = golden.bytes.slice();
        dataFlip = golden.dataStart + rng.int(golden.bytes.length - golden.dataStart);
        mutated[dataFlip] ^= 1 + rng.int(255);
      } else if (kind === 3) {
        mutated = withHeader(golden.bytes, editHeader(headerOf(golden.bytes).text, rng), rng);
      } else {
        // edit the length field, or append/remove trailing bytes
        mutated = golden.bytes.slice();
        const view = new DataView(mutated.buffer);
        const choice = rng.int(3);
        if (choice === 0) view.setBigUint64(0, BigInt(rng.int(golden.bytes.length * 2)), true);
        else if (choice === 1) view.setBigUint64(0, 2n ** BigInt(40 + rng.int(24)), true);
        else mutated = Buffer.concat([golden.bytes, new Uint8Array(1 + rng.int(16))]);
      }
      let source: SafetensorsFile;
      try {
        source = openSafetensorsBytes(mutated, `mutation ${i}`);
        checkConsistent(source, mutated, i);
      } catch (error) {
        if (!(error instanceof SafetensorsError)) {
          throw new Error(
            `mutation ${i} (kind ${kind}, ${golden.path}) threw ${(error as Error)?.stack ?? error}`,
          );
        }
        if (dataFlip >= 0) throw new Error(`mutation ${i}: a data-only flip was refused: ${error.message}`);
        codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
        outcomes.error++;
        continue;
      }
      outcomes.opened++;
      if (kind === 0) throw new Error(`mutation ${i}: a truncated file opened`);
      if (dataFlip >= 0) {
        outcomes.dataFlips++;
        expect(source.names.map((n) => source.info(n))).toEqual(golden.infos);
        const changed = source.names.filter(
          (n) => !Buffer.from(source.readBytes(n)).equals(golden.snapshot.get(n) as Buffer),
        );
        const holder = golden.infos.find(
          (t) => dataFlip - golden.dataStart >= t.begin && dataFlip - golden.dataStart < t.end,
        );
        expect(changed).toEqual(holder ? [holder.name] : []);
      }
    }
    console.log(
      `fuzz: ${JSON.stringify(outcomes)}; error codes ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    expect(outcomes.error + outcomes.opened).toBe(ITERATIONS);
    // The mutations must exercise both paths and a spread of validation rules.
    expect(outcomes.dataFlips).toBeGreaterThan(ITERATIONS / 10);
    expect(codes.size).toBeGreaterThanOrEqual(10);
  },
  // A few seconds normally; generous so a busy CI machine does not turn it into a false failure.
  60_000,
);
