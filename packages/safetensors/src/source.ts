import { closeSync, fstatSync, openSync } from "node:fs";
import { mapFile, readAt } from "@rho1/io";
import { asNative, type NativeArray, toFloat32 } from "./convert.ts";
import { SafetensorsError, show } from "./errors.ts";
import { type Header, MAX_HEADER_BYTES, parseHeader, type TensorInfo } from "./header.ts";

/** One safetensors file or a sharded checkpoint, seen the same way. */
export interface TensorSource {
  /** Tensor names in file order (for a sharded checkpoint: the index's order). */
  readonly names: string[];
  /** Dtype, shape and byte range; throws SafetensorsError "missing_tensor" naming the file and tensor. */
  info(name: string): TensorInfo;
  has(name: string): boolean;
  /** The exact stored bytes, as a view into the mapped file: copy them if you keep them past close(). */
  readBytes(name: string): Uint8Array;
  /** The native typed array (F16/BF16 as raw Uint16 bits, F8/BOOL as bytes); a view when aligned. */
  read(name: string): NativeArray;
  /**
   * Widened to float32 from any dtype: a fresh Float32Array (F32 is copied), or written into `out` when given
   * (exactly numel elements; lets callers reuse buffers when loading many tensors).
   */
  readFloat32(name: string, out?: Float32Array): Float32Array;
  /** The `__metadata__` strings. */
  readonly metadata: Record<string, string>;
  close(): void;
}

/** Where a file's bytes come from: one mapping (or buffer) of the whole file, or a mapping per tensor. */
interface Backing {
  /** The file's first bytes: at least the 8-byte length and the header when both fit in the file. */
  prefix: Uint8Array;
  size: number;
  /** Bytes [begin, end) of the file. */
  slice(begin: number, end: number): Uint8Array;
}

/** Bun.mmap maps at most 4 GiB at once; bigger files are mapped (read, under Node) one tensor at a time. */
const WHOLE_MAP_LIMIT = 2 ** 32;

function wholeBacking(bytes: Uint8Array): Backing {
  return { prefix: bytes, size: bytes.byteLength, slice: (begin, end) => bytes.subarray(begin, end) };
}

/**
 * Maps the file read-only (MAP_PRIVATE: writes into a returned view never reach the file) so that opening costs
 * only the header and each tensor is paged in when read. Files over 4 GiB: the header is read, and each tensor is
 * mapped on its own when read. Falls back to reading the file when mmap is refused (an empty file, a file system
 * without mmap).
 */
function fileBacking(path: string): Backing {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file_not_found" : "io_error";
    throw new SafetensorsError(code, path, `cannot open: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SafetensorsError("io_error", path, "not a regular file");
    const size = stat.size;
    if (size > WHOLE_MAP_LIMIT) {
      const length = readAt(fd, 8, 0);
      const declared = new DataView(length.buffer).getBigUint64(0, true);
      // Only read a header that parseHeader will accept; otherwise it reports the bad length from these 8 bytes.
      const headerBytes =
        declared <= BigInt(MAX_HEADER_BYTES) && Number(declared) + 8 <= size ? Number(declared) : 0;
      const prefix = readAt(fd, 8 + headerBytes, 0);
      return {
        prefix,
        size,
        slice(begin, end) {
          if (end === begin) return new Uint8Array(0);
          if (end - begin > WHOLE_MAP_LIMIT) {
            throw new SafetensorsError(
              "tensor_too_large",
              path,
              `a tensor of ${end - begin} bytes exceeds the 4 GiB mapping limit`,
            );
          }
          try {
            return mapFile(path, { offset: begin, size: end - begin });
          } catch (error) {
            throw new SafetensorsError(
              "io_error",
              path,
              `cannot map bytes ${begin}..${end}: ${(error as Error).message}`,
            );
          }
        },
      };
    }
    if (size > 0) {
      try {
        return wholeBacking(mapFile(path));
      } catch {
        // fall through to a plain read
      }
    }
    return wholeBacking(readAt(fd, size, 0));
  } finally {
    closeSync(fd);
  }
}

export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly names: string[];
  readonly metadata: Record<string, string>;
  readonly header: Header;
  /** Absolute file offset where the data section starts (8 + header length). */
  readonly dataStart: number;
  private backing: Backing | null;
  private readonly byName: Map<string, TensorInfo>;

  /** Opens `path`; or, when `bytes` is given, reads the safetensors image in `bytes` and uses `path` as its name. */
  constructor(path: string, bytes?: Uint8Array) {
    this.path = path;
    this.backing = bytes ? wholeBacking(bytes) : fileBacking(path);
    this.header = parseHeader(this.backing.prefix, this.backing.size, path);
    this.dataStart = 8 + this.header.headerBytes;
    this.names = this.header.tensors.map((t) => t.name);
    this.metadata = this.header.metadata;
    this.byName = new Map(this.header.tensors.map((t) => [t.name, t]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A copy, so callers cannot disturb later reads by editing it. */
  info(name: string): TensorInfo {
    const info = this.lookup(name);
    return { ...info, shape: [...info.shape] };
  }

  private lookup(name: string): TensorInfo {
    const info = this.byName.get(name);
    if (!info) throw new SafetensorsError("missing_tensor", this.path, `no tensor named ${show(name)}`, name);
    return info;
  }

  readBytes(name: string): Uint8Array {
    const info = this.lookup(name);
    if (!this.backing) {
      throw new SafetensorsError("closed", this.path, `cannot read ${show(name)}: the file was closed`, name);
    }
    return this.backing.slice(this.dataStart + info.begin, this.dataStart + info.end);
  }

  read(name: string): NativeArray {
    return asNative(this.lookup(name).dtype, this.readBytes(name));
  }

  readFloat32(name: string, out?: Float32Array): Float32Array {
    const { dtype, shape } = this.lookup(name);
    if (out && out.length !== numel(shape)) {
      throw new SafetensorsError(
        "invalid_output",
        this.path,
        `readFloat32(${show(name)}): output has ${out.length} elements, the ${dtype}${show(shape)} tensor has ${numel(shape)}`,
        name,
      );
    }
    return toFloat32(dtype, this.readBytes(name), out);
  }

  /** Drops the mapping (Bun unmaps it once no view is reachable). */
  close(): void {
    this.backing = null;
  }
}

/** Opens one .safetensors file: validates the whole header, reads no tensor data. */
export function openSafetensors(path: string): SafetensorsFile {
  return new SafetensorsFile(path);
}

/** Reads a safetensors image already in memory (e.g. fetched); `name` stands for the file in error messages. */
export function openSafetensorsBytes(bytes: Uint8Array, name = "(bytes)"): SafetensorsFile {
  return new SafetensorsFile(name, bytes);
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
