import { SafetensorsError, show } from "./errors.ts";

export type Dtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL"
  | "F8_E4M3"
  | "F8_E5M2"
  | "U16"
  | "U32"
  | "U64";

/**
 * Bytes per element, listed in the order of the Rust `safetensors::Dtype` enum. That order is the enum's derived
 * `Ord`, which the Rust serializer uses (descending) to lay tensors out by alignment, so the index in this list is
 * what makes our files byte-identical to the Python library's.
 */
const RUST_ORDER: [Dtype, number][] = [
  ["BOOL", 1],
  ["U8", 1],
  ["I8", 1],
  ["F8_E5M2", 1],
  ["F8_E4M3", 1],
  ["I16", 2],
  ["U16", 2],
  ["F16", 2],
  ["BF16", 2],
  ["I32", 4],
  ["U32", 4],
  ["F32", 4],
  ["F64", 8],
  ["I64", 8],
  ["U64", 8],
];

const SIZE = new Map<string, number>(RUST_ORDER);
const RANK = new Map<string, number>(RUST_ORDER.map(([d], i) => [d, i]));

export const DTYPES: readonly Dtype[] = RUST_ORDER.map(([d]) => d);

export function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && SIZE.has(value);
}

/** Size in bytes of one element. */
export function dtypeSize(dtype: Dtype): number {
  const size = SIZE.get(dtype);
  if (size === undefined)
    throw new SafetensorsError("unknown_dtype", "(dtype)", `unknown dtype ${show(dtype)}`);
  return size;
}

/** Position in the Rust enum (higher = written first). */
export function dtypeRank(dtype: Dtype): number {
  return RANK.get(dtype) ?? -1;
}
