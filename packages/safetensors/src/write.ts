import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@rho1/io";
import { INDEX_FILE, SINGLE_FILE } from "./checkpoint.ts";
import { type Dtype, dtypeRank, dtypeSize, isDtype } from "./dtype.ts";
import { SafetensorsError, show } from "./errors.ts";
import { numel } from "./source.ts";

export interface TensorToWrite {
  dtype: Dtype;
  shape: number[];
  /** Bytes already in the dtype's encoding (e.g. BF16 as Uint16Array bits from float32ToBf16). */
  data: ArrayBufferView;
}

export type TensorsToWrite = Map<string, TensorToWrite> | Record<string, TensorToWrite>;

/** What a serialized file consists of: the 8-byte length + padded header, then the tensors' bytes in order. */
export interface Serialized {
  head: Uint8Array;
  chunks: Uint8Array[];
  byteLength: number;
}

function entriesOf(tensors: TensorsToWrite): [string, TensorToWrite][] {
  return tensors instanceof Map ? [...tensors] : Object.entries(tensors);
}

/** Compares by Unicode code point, i.e. UTF-8 byte order, which is how Rust orders `String`s. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Lays tensors out exactly like the Rust `safetensors` serializer (which the Python `save_file` calls): sorted by
 * dtype alignment descending then by name, header JSON compact with `__metadata__` first and keys
 * dtype/shape/data_offsets, padded with spaces to a multiple of 8 bytes.
 */
export function serialize(
  tensors: TensorsToWrite,
  metadata?: Record<string, string>,
  file = "(serialize)",
): Serialized {
  const entries = entriesOf(tensors);
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (name === "__metadata__")
      throw new SafetensorsError("invalid_name", file, `"__metadata__" cannot be a tensor name`, name);
    if (seen.has(name))
      throw new SafetensorsError("duplicate_name", file, `tensor ${show(name)} given twice`, name);
    seen.add(name);
    if (!isDtype(t?.dtype))
      throw new SafetensorsError(
        "unknown_dtype",
        file,
        `tensor ${show(name)} has unknown dtype ${show(t?.dtype)}`,
        name,
      );
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        "invalid_shape",
        file,
        `tensor ${show(name)} shape ${show(t.shape)} is not non-negative integers`,
        name,
      );
    }
    if (!ArrayBuffer.isView(t.data))
      throw new SafetensorsError(
        "invalid_data",
        file,
        `tensor ${show(name)} data is not a typed array`,
        name,
      );
    const expected = numel(t.shape) * dtypeSize(t.dtype);
    if (t.data.byteLength !== expected) {
      throw new SafetensorsError(
        "size_mismatch",
        file,
        `tensor ${show(name)} ${t.dtype}${show(t.shape)} needs ${expected} bytes, data has ${t.data.byteLength}`,
        name,
      );
    }
  }
  entries.sort(([an, a], [bn, b]) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(an, bn));

  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string")
        throw new SafetensorsError(
          "invalid_metadata",
          file,
          `metadata[${show(key)}] must be a string, found ${show(value)}`,
        );
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    chunks.push(bytesOf(t.data));
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);
  return { head, chunks, byteLength: head.length + offset };
}

/** Serializes to one in-memory buffer (small files, tests). */
export function serializeToBytes(tensors: TensorsToWrite, metadata?: Record<string, string>): Uint8Array {
  const { head, chunks, byteLength } = serialize(tensors, metadata);
  const out = new Uint8Array(byteLength);
  out.set(head);
  let at = head.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** `writeFileAtomic` with its failures reported as a SafetensorsError naming the file. */
function writeAtomic(path: string, chunks: Uint8Array[]): void {
  try {
    writeFileAtomic(path, chunks);
  } catch (error) {
    // writeFileAtomic's IoError already names the file: keep only its reason.
    const reason = (error as Error).message.replace(`${path}: cannot write `, "");
    throw new SafetensorsError("io_error", path, `cannot write: ${reason}`);
  }
}

export function writeSafetensorsSync(
  path: string,
  tensors: TensorsToWrite,
  metadata?: Record<string, string>,
): void {
  const { head, chunks } = serialize(tensors, metadata, path);
  writeAtomic(path, [head, ...chunks]);
}

/** Writes one .safetensors file atomically, byte-identical to Python's `safetensors.torch.save_file`. */
export async function writeSafetensors(
  path: string,
  tensors: TensorsToWrite,
  metadata?: Record<string, string>,
): Promise<void> {
  writeSafetensorsSync(path, tensors, metadata);
}

export interface WriteCheckpointOptions {
  /** Largest shard in bytes (tensor data only, like huggingface_hub). Default 50 GB (transformers 5's "50GB"). */
  maxShardBytes?: number;
  /** `__metadata__` of every file. Default {"format":"pt"}, as save_pretrained writes. */
  metadata?: Record<string, string>;
}

export const DEFAULT_MAX_SHARD_BYTES = 50 * 10 ** 9;

/**
 * Splits tensors into shards the way huggingface_hub's `split_state_dict_into_shards_factory` does: in the given
 * order, a tensor larger than the limit gets a shard of its own, otherwise a new shard starts when the tensor
 * would push the current one over the limit.
 */
export function planShards(
  entries: [string, TensorToWrite][],
  maxShardBytes: number,
): [string, TensorToWrite][][] {
  const shards: [string, TensorToWrite][][] = [];
  let current: [string, TensorToWrite][] = [];
  let size = 0;
  for (const entry of entries) {
    const bytes = entry[1].data.byteLength;
    if (bytes > maxShardBytes) {
      shards.push([entry]);
      continue;
    }
    if (size + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += bytes;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/** Python's json.dumps string form (ensure_ascii): everything outside printable ASCII as \uXXXX. */
function pyString(s: string): string {
  return JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The index exactly as transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n". */
export function indexJson(
  totalParameters: number,
  totalSize: number,
  weightMap: Map<string, string>,
): string {
  const names = [...weightMap.keys()].sort(compareCodePoints);
  const lines = names.map((n) => `    ${pyString(n)}: ${pyString(weightMap.get(n) as string)}`);
  const map = lines.length ? `{\n${lines.join(",\n")}\n  }` : "{}";
  return `{\n  "metadata": {\n    "total_parameters": ${totalParameters},\n    "total_size": ${totalSize}\n  },\n  "weight_map": ${map}\n}\n`;
}

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * Writes a Hugging Face checkpoint into `dir` like `save_pretrained`: one `model.safetensors`, or when the tensors
 * exceed `maxShardBytes`, `model-0000i-of-0000n.safetensors` shards plus `model.safetensors.index.json`. Every file
 * is written atomically; weight files of a previous save that are not part of this one are removed afterwards.
 * Returns the file names written.
 */
export async function writeCheckpoint(
  dir: string,
  tensors: TensorsToWrite,
  opts: WriteCheckpointOptions = {},
): Promise<string[]> {
  const maxShardBytes = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(maxShardBytes > 0))
    throw new SafetensorsError(
      "invalid_option",
      dir,
      `maxShardBytes must be positive, found ${show(maxShardBytes)}`,
    );
  const metadata = opts.metadata ?? { format: "pt" };
  const entries = entriesOf(tensors);
  // Validate everything before touching the folder.
  serialize(tensors, metadata, dir);
  mkdirSync(dir, { recursive: true });
  const shards = planShards(entries, maxShardBytes);
  const written: string[] = [];
  if (shards.length <= 1) {
    writeSafetensorsSync(join(dir, SINGLE_FILE), new Map(shards[0] ?? []), metadata);
    written.push(SINGLE_FILE);
  } else {
    const count = String(shards.length).padStart(5, "0");
    const weightMap = new Map<string, string>();
    let totalSize = 0;
    let totalParameters = 0;
    shards.forEach((shard, i) => {
      const name = `model-${String(i + 1).padStart(5, "0")}-of-${count}.safetensors`;
      writeSafetensorsSync(join(dir, name), new Map(shard), metadata);
      for (const [tensor, t] of shard) {
        weightMap.set(tensor, name);
        totalSize += t.data.byteLength;
        totalParameters += numel(t.shape);
      }
      written.push(name);
    });
    writeAtomic(join(dir, INDEX_FILE), [
      new TextEncoder().encode(indexJson(totalParameters, totalSize, weightMap)),
    ]);
    written.push(INDEX_FILE);
  }
  for (const file of readdirSync(dir)) {
    const stale =
      (file === SINGLE_FILE || file === INDEX_FILE || SHARD_NAME.test(file)) && !written.includes(file);
    if (stale) rmSync(join(dir, file), { force: true });
  }
  return written;
}
