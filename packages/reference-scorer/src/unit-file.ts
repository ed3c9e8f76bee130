/**
 * One committed unit of a score store: a single little-endian binary file, written once (temp + fsync +
 * rename) and then only memory-mapped. Layout (all section offsets 8-byte aligned):
 *
 *   0   magic "RHO1SCU1"          8 bytes
 *   8   u32 format version (1)    12 u32 seqLen
 *   16  u32 sequences (S)         20 u32 documents (D)
 *   24  u32 loss dtype (0 f32, 1 f16)
 *   28  u32 skipped (empty docs)  32 u32 rows read from the input
 *   36  u32 tokens (real)         40..63 reserved (0)
 *   64  i32 ids[S * seqLen]
 *       f32|f16 loss[S * (seqLen - 1)]   loss[s, t] = CE of predicting ids[s, t+1]; 0 where not valid
 *       u32 lengths[S]                   real tokens of row s (a prefix; the rest is padding)
 *       u32 docs[D * 3]                  (row, position, token count) of each document
 */
import { mapFile } from "@rho1/io";
import { ScoreError } from "./errors.ts";
import type { PackedUnit } from "./pack.ts";

export const UNIT_MAGIC = "RHO1SCU1";
export const UNIT_VERSION = 1;
const HEADER_BYTES = 64;

export type LossDtype = "f32" | "f16";

export interface UnitLayout {
  seqLen: number;
  sequences: number;
  documents: number;
  lossDtype: LossDtype;
  idsOffset: number;
  lossOffset: number;
  lengthsOffset: number;
  docsOffset: number;
  bytes: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

export function unitLayout(
  seqLen: number,
  sequences: number,
  documents: number,
  lossDtype: LossDtype,
): UnitLayout {
  const idsOffset = HEADER_BYTES;
  const lossOffset = align8(idsOffset + 4 * sequences * seqLen);
  const lengthsOffset = align8(lossOffset + (lossDtype === "f32" ? 4 : 2) * sequences * (seqLen - 1));
  const docsOffset = align8(lengthsOffset + 4 * sequences);
  const bytes = align8(docsOffset + 12 * documents);
  return { seqLen, sequences, documents, lossDtype, idsOffset, lossOffset, lengthsOffset, docsOffset, bytes };
}

/** Float16Array: Bun and Node >= 24 have it; on older Node an f16 store is an error naming what is needed. */
export function float16ArrayClass(file: string): typeof Float16Array {
  const found = (globalThis as { Float16Array?: typeof Float16Array }).Float16Array;
  if (found === undefined) {
    throw new ScoreError(
      "unsupported_runtime",
      `f16 score stores need Float16Array (Bun, or Node >= 24; this is Node ${process.versions.node}); score with lossDtype "f32"`,
      { file },
    );
  }
  return found;
}

/** Serialises a scored unit. `loss` is [S * (seqLen-1)] float32; f16 rounds to nearest even. */
export function encodeUnit(
  packed: PackedUnit,
  loss: Float32Array,
  lossDtype: LossDtype,
  rows: number,
): Uint8Array {
  const layout = unitLayout(packed.seqLen, packed.numSequences, packed.numDocuments, lossDtype);
  const bytes = new Uint8Array(layout.bytes);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(UNIT_MAGIC), 0);
  const header = [UNIT_VERSION, packed.seqLen, packed.numSequences, packed.numDocuments];
  header.push(lossDtype === "f32" ? 0 : 1, packed.skipped, rows, packed.tokens);
  for (let i = 0; i < header.length; i++) view.setUint32(8 + 4 * i, header[i], true);
  new Int32Array(bytes.buffer, layout.idsOffset, packed.ids.length).set(packed.ids);
  if (lossDtype === "f32") new Float32Array(bytes.buffer, layout.lossOffset, loss.length).set(loss);
  else new (float16ArrayClass("unit"))(bytes.buffer, layout.lossOffset, loss.length).set(loss);
  new Uint32Array(bytes.buffer, layout.lengthsOffset, packed.lengths.length).set(packed.lengths);
  new Uint32Array(bytes.buffer, layout.docsOffset, packed.docs.length).set(packed.docs);
  return bytes;
}

export interface UnitView {
  layout: UnitLayout;
  skipped: number;
  rows: number;
  tokens: number;
  ids: Int32Array;
  /** Float32Array for f32 stores, Float16Array for f16 stores. */
  loss: Float32Array | Float16Array;
  lengths: Uint32Array;
  docs: Uint32Array;
}

/** The layout a unit's 64-byte header describes (checks magic, version and dtype; not the file size). */
export function decodeUnitHeader(bytes: Uint8Array, path: string): UnitLayout {
  const fail = (what: string): never => {
    throw new ScoreError("corrupt_store", what, { file: path });
  };
  if (bytes.length < HEADER_BYTES) fail(`unit file has ${bytes.length} bytes, shorter than its header`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== UNIT_MAGIC)
    fail(`bad magic, expected ${UNIT_MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const u32 = (at: number) => view.getUint32(at, true);
  if (u32(8) !== UNIT_VERSION) fail(`format version ${u32(8)}, expected ${UNIT_VERSION}`);
  const dtypeCode = u32(24);
  if (dtypeCode > 1) fail(`loss dtype code ${dtypeCode}, expected 0 (f32) or 1 (f16)`);
  return unitLayout(u32(12), u32(16), u32(20), dtypeCode === 0 ? "f32" : "f16");
}

/** Parses (and bounds-checks) a unit file already in memory or memory-mapped. */
export function decodeUnit(bytes: Uint8Array, path: string): UnitView {
  const fail = (what: string): never => {
    throw new ScoreError("corrupt_store", what, { file: path });
  };
  const layout = decodeUnitHeader(bytes, path);
  if (bytes.byteOffset % 8 !== 0) fail("unit buffer is not 8-byte aligned");
  if (layout.bytes !== bytes.length)
    fail(`unit file has ${bytes.length} bytes, its header implies ${layout.bytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const { buffer, byteOffset: base } = bytes;
  const n = layout.sequences;
  const lossLength = n * (layout.seqLen - 1);
  return {
    layout,
    skipped: u32(28),
    rows: u32(32),
    tokens: u32(36),
    ids: new Int32Array(buffer, base + layout.idsOffset, n * layout.seqLen),
    loss:
      layout.lossDtype === "f32"
        ? new Float32Array(buffer, base + layout.lossOffset, lossLength)
        : new (float16ArrayClass(path))(buffer, base + layout.lossOffset, lossLength),
    lengths: new Uint32Array(buffer, base + layout.lengthsOffset, n),
    docs: new Uint32Array(buffer, base + layout.docsOffset, 3 * layout.documents),
  };
}

/** Memory-maps a unit file privately (copy-on-write: callers' writes never reach the file). */
export function mapUnit(path: string): UnitView {
  let bytes: Uint8Array;
  try {
    bytes = mapFile(path);
  } catch (error) {
    throw new ScoreError("corrupt_store", `cannot map unit file (${(error as Error).message})`, {
      file: path,
    });
  }
  return decodeUnit(bytes, path);
}
