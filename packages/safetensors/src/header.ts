import { type Dtype, dtypeSize, isDtype } from "./dtype.ts";
import { SafetensorsError, show } from "./errors.ts";
import { JsonNumber, JsonSyntaxError, type JsonValue, parseJson } from "./json.ts";

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte offsets in the data section (after the 8-byte length and the header). */
  begin: number;
  end: number;
}

export interface Header {
  /** Tensors in header (file) order. */
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Whether the header has a `__metadata__` entry at all (an empty one is written back as `{}`). */
  hasMetadata: boolean;
  /** Size of the header JSON in bytes (the u64 at the start of the file). */
  headerBytes: number;
}

/** Same limit as the Rust implementation (MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads and fully validates the header of a safetensors file whose first bytes are `prefix` and whose total size
 * is `fileSize`: the same checks, in the same spirit, as `safetensors::SafeTensors::read_metadata` in Rust.
 */
export function parseHeader(prefix: Uint8Array, fileSize: number, file: string): Header {
  if (fileSize < 8) {
    throw new SafetensorsError(
      "header_too_small",
      file,
      `file is ${fileSize} bytes, shorter than the 8-byte header length`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      "header_too_large",
      file,
      `header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  const headerBytes = Number(declared);
  if (8 + headerBytes > fileSize) {
    throw new SafetensorsError(
      "invalid_header_length",
      file,
      `header length ${headerBytes} runs past the end of the file (${fileSize} bytes, ${fileSize - 8} after the length)`,
    );
  }
  if (prefix.byteLength < 8 + headerBytes)
    throw new Error("parseHeader: prefix shorter than the header (internal)");
  let text: string;
  try {
    text = utf8.decode(prefix.subarray(8, 8 + headerBytes));
  } catch {
    throw new SafetensorsError("invalid_utf8", file, `header (${headerBytes} bytes) is not valid UTF-8`);
  }
  if (!text.startsWith("{")) {
    throw new SafetensorsError(
      "invalid_header_start",
      file,
      `header must start with '{', found ${show(text.slice(0, 1))}`,
    );
  }
  let json: JsonValue;
  try {
    json = parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const code = error.duplicateDepth === 1 ? "duplicate_name" : "invalid_json";
    throw new SafetensorsError(code, file, `header is not valid JSON: ${error.message}`);
  }
  if (!(json instanceof Map)) {
    throw new SafetensorsError("invalid_header", file, "header JSON is not an object");
  }

  const metadata: Record<string, string> = {};
  let hasMetadata = false;
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of json) {
    if (name === "__metadata__") {
      hasMetadata = true;
      if (!(entry instanceof Map)) {
        throw new SafetensorsError(
          "invalid_metadata",
          file,
          `__metadata__ must be an object of strings, found ${describe(entry)}`,
        );
      }
      for (const [key, value] of entry) {
        if (typeof value !== "string") {
          throw new SafetensorsError(
            "invalid_metadata",
            file,
            `__metadata__[${show(key)}] must be a string, found ${describe(value)}`,
          );
        }
        // defineProperty, not assignment: a key named "__proto__" must stay data, not change the prototype.
        Object.defineProperty(metadata, key, { value, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    tensors.push(parseTensorInfo(name, entry, file));
  }
  checkLayout(tensors, fileSize - 8 - headerBytes, file);
  return { tensors, metadata, hasMetadata, headerBytes };
}

function describe(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.raw;
  if (value instanceof Map) return "an object";
  if (Array.isArray(value)) return "an array";
  return show(value);
}

function field(entry: Map<string, JsonValue>, key: string, name: string, file: string): JsonValue {
  const value = entry.get(key);
  if (value === undefined) {
    throw new SafetensorsError(
      "invalid_tensor_info",
      file,
      `tensor ${show(name)} has no "${key}" field`,
      name,
    );
  }
  return value;
}

function nonNegativeInteger(value: JsonValue): number | undefined {
  return value instanceof JsonNumber && value.integer && value.value >= 0 && !Object.is(value.value, -0)
    ? value.value
    : undefined;
}

function parseTensorInfo(name: string, entry: JsonValue, file: string): TensorInfo {
  if (!(entry instanceof Map)) {
    throw new SafetensorsError(
      "invalid_tensor_info",
      file,
      `tensor ${show(name)} must be an object, found ${describe(entry)}`,
      name,
    );
  }
  const dtype = field(entry, "dtype", name, file);
  if (!isDtype(dtype)) {
    throw new SafetensorsError(
      "unknown_dtype",
      file,
      `tensor ${show(name)} has unknown dtype ${describe(dtype)}`,
      name,
    );
  }
  const shapeValue = field(entry, "shape", name, file);
  if (!Array.isArray(shapeValue)) {
    throw new SafetensorsError(
      "invalid_shape",
      file,
      `tensor ${show(name)} shape must be an array, found ${describe(shapeValue)}`,
      name,
    );
  }
  const shape: number[] = [];
  for (const dim of shapeValue) {
    const n = nonNegativeInteger(dim);
    if (n === undefined) {
      throw new SafetensorsError(
        "invalid_shape",
        file,
        `tensor ${show(name)} shape has ${describe(dim)}, expected non-negative integers`,
        name,
      );
    }
    shape.push(n);
  }
  const offsets = field(entry, "data_offsets", name, file);
  const begin = Array.isArray(offsets) && offsets.length === 2 ? nonNegativeInteger(offsets[0]) : undefined;
  const end = Array.isArray(offsets) && offsets.length === 2 ? nonNegativeInteger(offsets[1]) : undefined;
  if (begin === undefined || end === undefined) {
    const found = Array.isArray(offsets) ? `[${offsets.map(describe).join(",")}]` : describe(offsets);
    throw new SafetensorsError(
      "invalid_offsets",
      file,
      `tensor ${show(name)} data_offsets must be two non-negative integers, found ${found}`,
      name,
    );
  }
  return { name, dtype, shape, begin, end };
}

/** Offsets must tile the data section exactly: sorted by offset, each starts where the previous ended. */
function checkLayout(tensors: TensorInfo[], dataBytes: number, file: string) {
  const byOffset = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: TensorInfo | undefined;
  for (const t of byOffset) {
    const range = `[${t.begin}, ${t.end}]`;
    if (t.end < t.begin) {
      throw new SafetensorsError(
        "invalid_offsets",
        file,
        `tensor ${show(t.name)} data_offsets ${range} end before they begin`,
        t.name,
      );
    }
    if (t.begin !== expected) {
      const what = t.begin > expected ? "gap" : "overlap";
      const after = previous
        ? `tensor ${show(previous.name)} ends at ${expected}`
        : "the data section starts at 0";
      throw new SafetensorsError(
        "invalid_offsets",
        file,
        `tensor ${show(t.name)} data_offsets ${range}: ${what} (${after})`,
        t.name,
      );
    }
    let elements = 1;
    for (const d of t.shape) elements *= d;
    const bytes = elements * dtypeSize(t.dtype);
    if (!Number.isSafeInteger(bytes) || bytes !== t.end - t.begin) {
      throw new SafetensorsError(
        "size_mismatch",
        file,
        `tensor ${show(t.name)} ${t.dtype}${show(t.shape)} needs ${bytes} bytes but data_offsets ${range} span ${t.end - t.begin}`,
        t.name,
      );
    }
    if (t.end > dataBytes) {
      throw new SafetensorsError(
        "offsets_out_of_bounds",
        file,
        `tensor ${show(t.name)} data_offsets ${range} run past the data section (${dataBytes} bytes)`,
        t.name,
      );
    }
    expected = t.end;
    previous = t;
  }
  if (expected !== dataBytes) {
    throw new SafetensorsError(
      "incomplete_data",
      file,
      `tensors cover ${expected} bytes of data but the data section is ${dataBytes} bytes (truncated or trailing bytes)`,
    );
  }
}
