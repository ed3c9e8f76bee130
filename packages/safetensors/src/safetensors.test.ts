import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fixturesPresent } from "@rho1/io";
import { Glob } from "bun";
import {
  bf16ToFloat32,
  f16ToFloat32,
  float32ToBf16,
  float32ToF16,
  openCheckpoint,
  openSafetensors,
  openSafetensorsBytes,
  SafetensorsError,
  ShardedCheckpoint,
  serializeToBytes,
  type TensorToWrite,
  toFloat32,
  writeCheckpoint,
  writeSafetensors,
} from "./index.ts";

const SHARED = join(import.meta.dir, "../../../../shared");
const FIXTURES = join(SHARED, "fixtures");
const STORIES = join(import.meta.dir, "../../../models/stories260K");
const haveFixtures = fixturesPresent(FIXTURES);
if (!haveFixtures) console.log(`skipping fixture tests: ${FIXTURES} not found`);

const tmp = mkdtempSync(join(tmpdir(), "rho1-safetensors-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every golden .safetensors file: the shared fixtures and the embedded stories260K model. */
function goldenFiles(): string[] {
  const files = haveFixtures
    ? [...new Glob("**/*.safetensors").scanSync(FIXTURES)].map((f) => join(FIXTURES, f))
    : [];
  files.push(join(STORIES, "model.safetensors"));
  return files.sort();
}

/** Builds a file from header JSON text and a data section, the way a hand-made or hostile file would be. */
function craft(name: string, header: string, data: Uint8Array | number = 0): string {
  const json = new TextEncoder().encode(header);
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  const path = join(tmp, name);
  writeFileSync(path, out);
  return path;
}

function errorOf(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SafetensorsError) return error;
    throw new Error(`expected SafetensorsError, got ${error}`);
  }
  throw new Error("expected SafetensorsError, nothing was thrown");
}

function tensorsOf(path: string): Map<string, TensorToWrite> {
  const source = openSafetensors(path);
  const tensors = new Map<string, TensorToWrite>();
  for (const name of source.names) {
    const { dtype, shape } = source.info(name);
    tensors.set(name, { dtype, shape, data: source.readBytes(name) });
  }
  return tensors;
}

describe("reading golden files", () => {
  test.skipIf(!haveFixtures)("values match an independent numpy decode", () => {
    const f32 = openSafetensors(join(FIXTURES, "models/llama-gqa-f32/model.safetensors"));
    expect(f32.metadata).toEqual({ format: "pt" });
    expect(f32.info("model.layers.1.self_attn.k_proj.weight")).toMatchObject({
      dtype: "F32",
      shape: [32, 64],
    });
    const k = f32.readFloat32("model.layers.1.self_attn.k_proj.weight");
    expect(Array.from(k.subarray(0, 4))).toEqual([
      Math.fround(-0.029673414304852486),
      Math.fround(0.13362812995910645),
      Math.fround(0.16226981580257416),
      Math.fround(0.010233434848487377),
    ]);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(-1.993159568075498, 4);

    const f16 = openSafetensors(join(FIXTURES, "models/llama-f16/model.safetensors"));
    expect(Array.from(f16.readFloat32("model.norm.weight").subarray(0, 4))).toEqual([
      1.009765625, 1.0126953125, 1.388671875, 1.302734375,
    ]);
    const embed = f16.readFloat32("model.embed_tokens.weight");
    expect(embed.length).toBe(8192);
    expect(embed[0]).toBe(0.04571533203125);
    expect(f16.read("model.norm.weight")).toBeInstanceOf(Uint16Array);

    const ids = openSafetensors(join(FIXTURES, "models/llama-gqa-f32.expected.safetensors"));
    const native = ids.read("input_ids");
    expect(native).toBeInstanceOf(BigInt64Array);
    expect(Array.from(native.subarray(0, 4) as BigInt64Array)).toEqual([1n, 213n, 287n, 262n]);
    expect(ids.readFloat32("input_ids").reduce((a, b) => a + b, 0)).toBe(12241);
  });

  test.skipIf(!haveFixtures)(
    "every golden file reads back its stored bytes, and reads are consistent",
    () => {
      for (const path of goldenFiles()) {
        const raw = readFileSync(path);
        const headerBytes = Number(raw.readBigUInt64LE(0));
        const source = openSafetensors(path);
        let covered = 0;
        for (const name of source.names) {
          const info = source.info(name);
          const stored = raw.subarray(8 + headerBytes + info.begin, 8 + headerBytes + info.end);
          expect(Buffer.compare(Buffer.from(source.readBytes(name)), stored)).toBe(0);
          const wide = source.readFloat32(name);
          expect(wide.length).toBe(info.shape.reduce((a, b) => a * b, 1));
          if (info.dtype === "F32") expect(Buffer.from(wide.buffer).equals(stored)).toBe(true);
          covered += info.end - info.begin;
        }
        expect(covered).toBe(raw.length - 8 - headerBytes);
        source.close();
        expect(() => source.readBytes(source.names[0])).toThrow(SafetensorsError);
      }
    },
  );
});

describe("byte-identical writing", () => {
  test.skipIf(!haveFixtures)(
    "writing every golden file's tensors back gives the Python library's exact bytes",
    async () => {
      const files = goldenFiles();
      expect(files.length).toBe(29);
      for (const path of files) {
        const source = openSafetensors(path);
        const metadata = source.header.hasMetadata ? source.metadata : undefined;
        // Insertion order deliberately reversed: the Rust layout sorts by dtype alignment, then name.
        const tensors = new Map([...tensorsOf(path)].reverse());
        const out = join(tmp, "roundtrip.safetensors");
        await writeSafetensors(out, tensors, metadata);
        const same = readFileSync(out).equals(readFileSync(path));
        if (!same) throw new Error(`not byte-identical: ${relative(SHARED, path)}`);
        expect(Buffer.from(serializeToBytes(tensors, metadata)).equals(readFileSync(path))).toBe(true);
      }
      expect(readdirSync(tmp).filter((f) => f.includes(".tmp-"))).toEqual([]);
    },
  );

  test("layout: dtype alignment descending, then name by code point; header padded with spaces to 8", () => {
    const bytes = serializeToBytes(
      {
        b: { dtype: "U8", shape: [1], data: new Uint8Array([7]) },
        a: { dtype: "F32", shape: [1], data: new Float32Array([1]) },
        "\u{1F600}": { dtype: "I64", shape: [], data: new BigInt64Array([5n]) },
        "\uFFFF": { dtype: "I64", shape: [0], data: new BigInt64Array(0) },
      },
      { k: "v" },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"k":"v"},"\uFFFF":{"dtype":"I64","shape":[0],"data_offsets":[0,0]},' +
        '"\u{1F600}":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"b":{"dtype":"U8","shape":[1],"data_offsets":[12,13]}}',
    );
    expect(header.length - header.trimEnd().length).toBe(
      n - new TextEncoder().encode(header.trimEnd()).length,
    );
    expect(bytes.length).toBe(8 + n + 13);
  });

  test("known answers from the Rust library's own serializer tests", () => {
    const f32 = new Float32Array([0, 1, 2, 3, 4, 5]);
    const image = (tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>) => {
      const bytes = serializeToBytes(tensors, metadata);
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      return { n, header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
    };
    const a = image({ "attn.0": { dtype: "F32", shape: [1, 2, 3], data: f32 } });
    expect(a.n).toBe(64);
    expect(a.header).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(Buffer.from(a.data).equals(Buffer.from(f32.buffer))).toBe(true);
    const b = image({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data: f32 } });
    expect(b.n).toBe(72);
    expect(b.header).toBe(
      `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}${" ".repeat(7)}`,
    );
    expect(image({})).toMatchObject({ n: 8, header: "{}      " });
    expect(image({}, { framework: "pt" })).toMatchObject({
      n: 40,
      header: '{"__metadata__":{"framework":"pt"}}     ',
    });
  });

  test("writer refuses bad input", async () => {
    const path = join(tmp, "bad.safetensors");
    const bad = async (tensors: Record<string, TensorToWrite>, code: string) => {
      const error = await writeSafetensors(path, tensors).then(
        () => undefined,
        (e) => e,
      );
      expect(error).toBeInstanceOf(SafetensorsError);
      expect(error.code).toBe(code);
    };
    await bad({ x: { dtype: "F32", shape: [3], data: new Float32Array(2) } }, "size_mismatch");
    await bad({ x: { dtype: "F31" as "F32", shape: [2], data: new Float32Array(2) } }, "unknown_dtype");
    await bad({ x: { dtype: "F32", shape: [-2], data: new Float32Array(2) } }, "invalid_shape");
    expect(existsSync(path)).toBe(false);
  });
});

describe("sharded checkpoints", () => {
  const sharded = join(FIXTURES, "models/llama-tied-bf16-sharded");

  test.skipIf(!haveFixtures)("one view over 16 shards", () => {
    const ck = openCheckpoint(sharded);
    expect(ck).toBeInstanceOf(ShardedCheckpoint);
    const view = ck as ShardedCheckpoint;
    expect(view.shards.length).toBe(16);
    expect(ck.names.length).toBe(29);
    expect(ck.has("lm_head.weight")).toBe(false);
    const down = ck.readFloat32("model.layers.2.mlp.down_proj.weight");
    expect(Array.from(down.subarray(0, 4))).toEqual([0.040771484375, -0.0712890625, -0.033935546875, 0.125]);
    expect(down.reduce((a, b) => a + b, 0)).toBeCloseTo(4.739459306001663, 3);
    expect(view.fileOf("model.embed_tokens.weight")).toEndWith("model-00001-of-00016.safetensors");
    const total = ck.names.reduce((sum, n) => sum + ck.info(n).end - ck.info(n).begin, 0);
    expect(total).toBe(view.indexMetadata.total_size as number);
    expect(errorOf(() => ck.info("nope")).code).toBe("missing_tensor");
  });

  test.skipIf(!haveFixtures)("a missing shard or a tensor absent from its shard names both", () => {
    const index = JSON.parse(readFileSync(join(sharded, "model.safetensors.index.json"), "utf8"));
    const dir = join(tmp, "broken");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const f of readdirSync(sharded)) writeFileSync(join(dir, f), readFileSync(join(sharded, f)));
    rmSync(join(dir, "model-00007-of-00016.safetensors"));
    let error = errorOf(() => openCheckpoint(dir));
    expect(error.code).toBe("missing_shard");
    expect(error.message).toContain("model-00007-of-00016.safetensors");
    expect(error.message).toContain("model.layers.1.self_attn.k_proj.weight");

    index.weight_map["model.layers.1.self_attn.k_proj.weight"] = "model-00001-of-00016.safetensors";
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
    error = errorOf(() => openCheckpoint(dir));
    expect(error.code).toBe("missing_tensor");
    expect(error.tensor).toBe("model.layers.1.self_attn.k_proj.weight");
    expect(error.message).toContain("model-00001-of-00016.safetensors");

    writeFileSync(join(dir, "model.safetensors.index.json"), "{not json");
    expect(errorOf(() => openCheckpoint(dir)).code).toBe("invalid_index");
    index.weight_map["model.norm.weight"] = "../model.safetensors";
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
    expect(errorOf(() => openCheckpoint(dir)).code).toBe("invalid_index");
    expect(errorOf(() => openCheckpoint(join(tmp, "no-such-dir"))).code).toBe("file_not_found");
    expect(errorOf(() => openCheckpoint(tmp)).code).toBe("no_checkpoint");
  });

  test.skipIf(!haveFixtures)(
    "writeCheckpoint reproduces save_pretrained's shards and index byte for byte",
    async () => {
      const ck = openCheckpoint(sharded) as ShardedCheckpoint;
      // save_pretrained shards in state_dict order, i.e. the order of LlamaForCausalLM's modules.
      const modules = [
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
        "input_layernorm",
        "post_attention_layernorm",
      ];
      const rank = (name: string) => {
        if (name.startsWith("model.embed_tokens")) return -1;
        const layer = /layers\.(\d+)\./.exec(name);
        if (!layer) return 1e9; // model.norm
        return Number(layer[1]) * 100 + modules.findIndex((m) => name.includes(`.${m}.`));
      };
      const order = [...ck.names].sort((a, b) => rank(a) - rank(b));
      const tensors = new Map<string, TensorToWrite>();
      for (const name of order) tensors.set(name, { ...ck.info(name), data: ck.readBytes(name) });
      const dir = join(tmp, "resharded");
      // Any limit from 55296 (q,k,v of a layer fit together) up to 73727 (embed alone) gives the same 16 shards.
      const written = await writeCheckpoint(dir, tensors, { maxShardBytes: 60_000 });
      expect(written.length).toBe(17);
      for (const file of readdirSync(sharded).filter((f) => f.startsWith("model"))) {
        expect(readFileSync(join(dir, file)).equals(readFileSync(join(sharded, file)))).toBe(true);
      }
      // Saving again unsharded replaces the shards and index with one file.
      expect(await writeCheckpoint(dir, tensors)).toEqual(["model.safetensors"]);
      expect(readdirSync(dir).sort()).toEqual(["model.safetensors"]);
      const single = openCheckpoint(dir);
      expect(single.names.length).toBe(29);
      expect(
        Buffer.from(single.readBytes("model.norm.weight")).equals(
          Buffer.from(ck.readBytes("model.norm.weight")),
        ),
      ).toBe(true);
    },
  );
});

describe("validation (every violation is a SafetensorsError with a code naming tensor and values)", () => {
  const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const cases: [string, string | (() => string), string, string[]][] = [
    [
      "too small",
      () => {
        const path = join(tmp, "small.safetensors");
        writeFileSync(path, new Uint8Array(5));
        return path;
      },
      "header_too_small",
      ["5 bytes"],
    ],
    [
      "header past the end",
      () => {
        const path = craft("past.safetensors", ok, 8);
        const bytes = readFileSync(path);
        bytes.writeBigUInt64LE(10_000n, 0);
        writeFileSync(path, bytes);
        return path;
      },
      "invalid_header_length",
      ["10000"],
    ],
    [
      "header over 100 MB",
      () => {
        const path = craft("huge.safetensors", ok, 8);
        const bytes = readFileSync(path);
        bytes.writeBigUInt64LE(100_000_001n, 0);
        writeFileSync(path, bytes);
        return path;
      },
      "header_too_large",
      ["100000001"],
    ],
    [
      "invalid utf-8",
      () => {
        const path = craft(
          "utf8.safetensors",
          '{"\u00e9":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
          8,
        );
        const bytes = readFileSync(path);
        bytes[10] = 0xff;
        writeFileSync(path, bytes);
        return path;
      },
      "invalid_utf8",
      [],
    ],
    ["not JSON", "{oops", "invalid_json", ["character 1"]],
    ["not starting with {", '["a"]', "invalid_header_start", ['"["']],
    [
      "duplicate name",
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      "duplicate_name",
      ['"a"'],
    ],
    [
      "unknown dtype",
      '{"a":{"dtype":"F24","shape":[2],"data_offsets":[0,8]}}',
      "unknown_dtype",
      ['"a"', '"F24"'],
    ],
    [
      "negative dim",
      '{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}',
      "invalid_shape",
      ['"a"', "-2"],
    ],
    ["fractional dim", '{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', "invalid_shape", ["2.0"]],
    ["string dim", '{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}', "invalid_shape", ['"2"']],
    ["missing shape", '{"a":{"dtype":"F32","data_offsets":[0,8]}}', "invalid_tensor_info", ['"a"', "shape"]],
    ["bad offsets", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', "invalid_offsets", ["[0]"]],
    [
      "end before begin",
      '{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}',
      "invalid_offsets",
      ["[8, 0]"],
    ],
    [
      "gap",
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}',
      "invalid_offsets",
      ['"b"', "gap", "ends at 4"],
    ],
    [
      "overlap",
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      "invalid_offsets",
      ["overlap"],
    ],
    [
      "size mismatch",
      '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}',
      "size_mismatch",
      ['"a"', "12 bytes", "span 8"],
    ],
    [
      "past the data",
      '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
      "offsets_out_of_bounds",
      ["16"],
    ],
    [
      "trailing data",
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      "incomplete_data",
      ["4 bytes", "8 bytes"],
    ],
    [
      "metadata not strings",
      '{"__metadata__":{"x":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      "invalid_metadata",
      ['"x"', "1"],
    ],
    ["missing file", () => join(tmp, "absent.safetensors"), "file_not_found", []],
  ];
  for (const [label, header, code, mentions] of cases) {
    test(label, () => {
      const path = typeof header === "string" ? craft(`${code}.safetensors`, header, 8) : header();
      const error = errorOf(() => openSafetensors(path));
      expect(error.code).toBe(code);
      expect(error.file).toBe(path);
      expect(error.message).toStartWith(path);
      for (const m of mentions) expect(error.message).toContain(m);
    });
  }

  test("valid edge cases open: empty file body, zero-size tensors, scalar, integer-like names keep file order", () => {
    expect(openSafetensors(craft("empty.safetensors", "{}")).names).toEqual([]);
    const path = craft(
      "edge.safetensors",
      '{"1":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"0":{"dtype":"I8","shape":[0,5],"data_offsets":[4,4]}}  ',
      new Uint8Array([0, 0, 0x80, 0x3f]),
    );
    const source = openSafetensors(path);
    expect(source.names).toEqual(["1", "0"]);
    expect(Array.from(source.readFloat32("1"))).toEqual([1]);
    expect(source.readFloat32("0").length).toBe(0);
    expect(source.metadata).toEqual({});
  });

  test('a metadata key "__proto__" stays an ordinary key and round-trips', () => {
    const path = craft("proto.safetensors", '{"__metadata__":{"__proto__":"x","b":"y"}}');
    const source = openSafetensors(path);
    expect(Object.keys(source.metadata)).toEqual(["__proto__", "b"]);
    expect(Object.getPrototypeOf(source.metadata)).toBe(Object.prototype);
    const again = openSafetensorsBytes(serializeToBytes({}, source.metadata));
    expect(again.metadata).toEqual(source.metadata);
  });

  test("an in-memory image reads like a file", () => {
    const bytes = serializeToBytes({
      w: { dtype: "F16", shape: [2], data: float32ToF16(new Float32Array([0.5, -4])) },
    });
    const source = openSafetensorsBytes(bytes, "mem");
    expect(source.path).toBe("mem");
    expect(Array.from(source.readFloat32("w"))).toEqual([0.5, -4]);
    // info() hands out copies; a wrong-sized output buffer is refused by name.
    const info = source.info("w");
    info.shape.push(9);
    info.end = 0;
    expect(source.info("w")).toEqual({ name: "w", dtype: "F16", shape: [2], begin: 0, end: 4 });
    const wrong = errorOf(() => source.readFloat32("w", new Float32Array(3)));
    expect(wrong.code).toBe("invalid_output");
    expect(wrong.message).toContain("3 elements");
    expect(errorOf(() => openSafetensorsBytes(bytes.subarray(0, bytes.length - 1), "mem")).code).toBe(
      "offsets_out_of_bounds",
    );
  });

  test("misaligned data is copied, not mis-viewed", () => {
    // Header of 9 bytes of JSON puts the data at file offset 17: not 4-aligned.
    const path = craft(
      "odd.safetensors",
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'.padEnd(57, " "),
      new Uint8Array(new Float32Array([2.5]).buffer),
    );
    expect(Array.from(openSafetensors(path).read("a") as Float32Array)).toEqual([2.5]);
  });
});

describe("files over 4 GiB (one mapping per tensor)", () => {
  test("a sparse 4.3 GB file opens from its header and reads tensors on either side of a huge one", () => {
    const big = 2 ** 32 + 16;
    const header = JSON.stringify({
      head: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      middle: { dtype: "U8", shape: [big], data_offsets: [8, 8 + big] },
      tail: { dtype: "F32", shape: [2], data_offsets: [8 + big, 16 + big] },
    });
    const path = join(tmp, "sparse.safetensors");
    const json = new TextEncoder().encode(header);
    const start = new Uint8Array(8 + json.length + 8);
    new DataView(start.buffer).setBigUint64(0, BigInt(json.length), true);
    start.set(json, 8);
    start.set(new Uint8Array(new Float32Array([1.5, -2]).buffer), 8 + json.length);
    const fd = openSync(path, "w");
    try {
      writeSync(fd, start, 0, start.length, 0);
      const tail = new Uint8Array(new Float32Array([3, 4.25]).buffer);
      writeSync(fd, tail, 0, 8, 8 + json.length + 8 + big); // leaves a hole: no disk used
    } finally {
      closeSync(fd);
    }
    try {
      const source = openSafetensors(path);
      expect(source.names).toEqual(["head", "middle", "tail"]);
      expect(Array.from(source.readFloat32("head"))).toEqual([1.5, -2]);
      expect(Array.from(source.readFloat32("tail"))).toEqual([3, 4.25]);
      expect(errorOf(() => source.readBytes("middle")).code).toBe("tensor_too_large");
      truncateSync(path, 8 + json.length + 8 + big); // cut the tail off
      expect(errorOf(() => openSafetensors(path)).code).toBe("offsets_out_of_bounds");
    } finally {
      rmSync(path, { force: true });
    }
  });
});

describe("dtype conversions", () => {
  test("bf16 widening is a 16-bit shift (odd lengths, unaligned starts)", () => {
    const bits = new Uint16Array([0x3f80, 0xc000, 0x7f80, 0x0001, 0x8000]);
    expect(Array.from(bf16ToFloat32(bits))).toEqual([1, -2, Number.POSITIVE_INFINITY, 2 ** -133, -0]);
    expect(Array.from(bf16ToFloat32(bits.subarray(1)))).toEqual([
      -2,
      Number.POSITIVE_INFINITY,
      2 ** -133,
      -0,
    ]);
  });

  test("bf16 widening: every length remainder and alignment of the unrolled loop, and into a given buffer", () => {
    const source = new Uint16Array(64).map((_, i) => (i * 2654435761) >>> 16);
    for (let start = 0; start < 3; start++) {
      for (let length = 0; length <= 20; length++) {
        const bits = source.subarray(start, start + length);
        const wide = new Uint32Array(bf16ToFloat32(bits).buffer);
        expect(Array.from(wide)).toEqual(Array.from(bits, (b) => (b << 16) >>> 0));
      }
    }
    const out = new Float32Array(5);
    expect(
      toFloat32(
        "BF16",
        new Uint8Array(new Uint16Array([0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0]).buffer),
        out,
      ),
    ).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5]);
    expect(() => toFloat32("F32", new Uint8Array(8), out)).toThrow("output has 5 elements");
  });

  test("f16 widening matches the IEEE definition for all 65536 bit patterns", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const wide = f16ToFloat32(all);
    for (let h = 0; h < 65536; h++) {
      const exp = (h >> 10) & 31;
      const mant = h & 1023;
      const sign = h & 0x8000 ? -1 : 1;
      const want =
        exp === 0
          ? sign * mant * 2 ** -24
          : exp === 31
            ? mant
              ? Number.NaN
              : sign * Infinity
            : sign * (1 + mant / 1024) * 2 ** (exp - 15);
      if (!Object.is(wide[h], want)) throw new Error(`f16 ${h.toString(16)}: ${wide[h]} != ${want}`);
    }
    expect(Array.from(float32ToF16(new Float32Array([1, -2, 65504, 70000, 2 ** -24, 1 + 2 ** -11])))).toEqual(
      [0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x3c00],
    );
  });

  test("float32ToBf16 rounds to nearest even like torch, NaN becomes 0x7fc0", () => {
    const x = new Float32Array(
      new Uint32Array([0x3f808000, 0x3f818000, 0x3f808001, 0xffc00001, 0x7f7fffff]).buffer,
    );
    expect(Array.from(float32ToBf16(x))).toEqual([0x3f80, 0x3f82, 0x3f81, 0x7fc0, 0x7f80]);
    const y = new Float32Array([0.1, -3.5, 1e-30]);
    const back = bf16ToFloat32(float32ToBf16(y));
    for (let i = 0; i < y.length; i++)
      expect(Math.abs(back[i] - y[i])).toBeLessThanOrEqual(Math.abs(y[i]) * 2 ** -8);
  });

  test("integers, bool and f8 widen to float32", () => {
    const i64 = new BigInt64Array([-3n, 2n ** 40n, 7n]);
    expect(Array.from(toFloat32("I64", new Uint8Array(i64.buffer)))).toEqual([-3, 2 ** 40, 7]);
    const u64 = new BigUint64Array([2n ** 63n]);
    expect(Array.from(toFloat32("U64", new Uint8Array(u64.buffer)))).toEqual([2 ** 63]);
    expect(Array.from(toFloat32("BOOL", new Uint8Array([1, 0, 1])))).toEqual([1, 0, 1]);
    expect(Array.from(toFloat32("I8", new Uint8Array([0xff, 5])))).toEqual([-1, 5]);
    expect(Array.from(toFloat32("F64", new Uint8Array(new Float64Array([0.5, -1e300]).buffer)))).toEqual([
      0.5,
      -Infinity,
    ]);
    // e4m3fn: 0x38 = 1.0, 0x7e = 448 (max), 0x7f = NaN, 0x01 = 2^-9; e5m2: 0x3c = 1.0, 0x7c = inf
    const e4 = toFloat32("F8_E4M3", new Uint8Array([0x38, 0x7e, 0x7f, 0x01, 0xb8]));
    expect(Array.from(e4)).toEqual([1, 448, Number.NaN, 2 ** -9, -1]);
    expect(Array.from(toFloat32("F8_E5M2", new Uint8Array([0x3c, 0x7c, 0xc0])))).toEqual([1, Infinity, -2]);
  });
});
