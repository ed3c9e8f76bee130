/**
 * Random-access reader of a finished score store. Unit files are memory-mapped lazily (privately, so a
 * caller writing into a returned array never touches the file); nothing is loaded up front but the manifest.
 *
 * Trust: `open(dir, { verify: true })` checks every unit against the manifest (size, sha256, layout, finite
 * losses) before returning, so a consumer that trains on the store never takes a step on data that changed after
 * scoring. Without it (stores on trusted storage) sizes are still checked at open, and each unit's layout and
 * losses on its first map, before its first row is returned.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { ScoreError } from "./errors.ts";
import { readManifest, type ScoreManifest } from "./manifest.ts";
import { decodeUnitHeader, float16ArrayClass, mapUnit, type UnitView } from "./unit-file.ts";

export interface ScoredSequence {
  /** [seqLen] token ids (a view into the mapped file: read-only by contract). */
  ids: Int32Array;
  /** [seqLen - 1] reference loss of predicting ids[t + 1]; 0 where not valid. */
  refLoss: Float32Array;
  /** [seqLen - 1] 1 where both ids[t] and ids[t + 1] are real tokens, else 0. */
  valid: Float32Array;
  /** Real tokens in the row (the rest is padding). */
  length: number;
  /** Source file index (into manifest.sources) and row group / chunk the row came from. */
  source: { file: number; unit: number };
}

export class ScoreStore {
  readonly manifest: ScoreManifest;
  readonly numSequences: number;
  readonly seqLen: number;
  private readonly dir: string;
  private readonly starts: number[];
  private readonly views: (UnitView | undefined)[];

  private constructor(dir: string, manifest: ScoreManifest) {
    this.dir = dir;
    this.manifest = manifest;
    this.seqLen = manifest.seqLen;
    this.numSequences = manifest.counts.sequences;
    this.starts = manifest.units.map((u) => u.firstSequence);
    this.views = new Array(manifest.units.length);
  }

  /**
   * Opens a finished store (its manifest.json); unit files are mapped on first use. `verify` hashes every unit
   * first (about 1 s per GB here) and throws a ScoreError naming the first unit that does not match.
   */
  static open(dir: string, options: { verify?: boolean } = {}): ScoreStore {
    const store = new ScoreStore(dir, readManifest(dir));
    for (const entry of store.manifest.units) {
      const path = join(dir, entry.path);
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        throw new ScoreError("corrupt_store", "unit file is missing", { file: path });
      }
      if (size !== entry.bytes)
        throw new ScoreError(
          "corrupt_store",
          `unit file has ${size} bytes, the manifest says ${entry.bytes}`,
          {
            file: path,
          },
        );
    }
    if (options.verify) for (let u = 0; u < store.manifest.units.length; u++) store.verifyUnit(u);
    return store;
  }

  /**
   * Streams unit u's file (never mapped, so RSS does not grow with the store): its sha256 must equal the
   * manifest's and every stored loss must be finite (padding positions hold 0).
   */
  verifyUnit(u: number): void {
    const entry = this.manifest.units[u];
    const path = join(this.dir, entry.path);
    const hasher = createHash("sha256");
    const fd = openSync(path, "r");
    let lossStart = 0;
    let lossEnd = 0;
    let f16 = false;
    try {
      for (let at = 0; ; ) {
        // Fill the buffer whole (a short read mid-file would split a loss value across chunks).
        let n = 0;
        for (let got = -1; got !== 0 && n < VERIFY_BUFFER.length; n += got)
          got = readSync(fd, VERIFY_BUFFER, n, VERIFY_BUFFER.length - n, at + n);
        if (n === 0) break;
        const chunk = VERIFY_BUFFER.subarray(0, n);
        hasher.update(chunk);
        if (at === 0) {
          const layout = decodeUnitHeader(chunk, path);
          f16 = layout.lossDtype === "f16";
          lossStart = layout.lossOffset;
          lossEnd = lossStart + layout.sequences * (layout.seqLen - 1) * (f16 ? 2 : 4);
        }
        // Loss values in this chunk (offsets are 8-aligned and the buffer a multiple of 8, so views line up).
        const from = Math.max(at, lossStart);
        const to = Math.min(at + n, lossEnd);
        if (from < to) {
          const bytes = VERIFY_BUFFER.buffer.slice(from - at, to - at);
          const values = f16 ? new (float16ArrayClass(path))(bytes) : new Float32Array(bytes);
          for (let i = 0; i < values.length; i++) {
            if (!Number.isFinite(values[i])) {
              const index = (from - lossStart) / (f16 ? 2 : 4) + i;
              throw nonFinite(values[i], index, this.seqLen, path);
            }
          }
        }
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    const sha256 = hasher.digest("hex");
    if (sha256 !== entry.sha256) {
      throw new ScoreError(
        "corrupt_store",
        `unit checksum ${sha256.slice(0, 16)}… does not match the manifest's ${entry.sha256.slice(0, 16)}…: the file changed after scoring (rescore it, or pass --no-verify to use it anyway)`,
        { file: path },
      );
    }
  }

  private unitOf(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.numSequences) {
      throw new RangeError(`sequence ${i} out of range [0, ${this.numSequences})`);
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    // Units with zero sequences share a start with the next one: step to the unit that holds row i.
    while (
      this.manifest.units[lo].sequences === 0 ||
      i - this.starts[lo] >= this.manifest.units[lo].sequences
    )
      lo++;
    return lo;
  }

  /** The mapped file of unit u (manifest.units[u]), checked against the manifest on first use. */
  unitView(u: number): UnitView {
    let view = this.views[u];
    if (!view) {
      const entry = this.manifest.units[u];
      view = mapUnit(join(this.dir, entry.path));
      if (view.layout.sequences !== entry.sequences || view.layout.seqLen !== this.seqLen) {
        throw new ScoreError(
          "corrupt_store",
          `unit holds ${view.layout.sequences} rows of ${view.layout.seqLen}, manifest says ${entry.sequences} of ${this.seqLen}`,
          { file: join(this.dir, entry.path) },
        );
      }
      checkFiniteLosses(view, join(this.dir, entry.path));
      this.views[u] = view;
    }
    return view;
  }

  sequence(i: number): ScoredSequence {
    const u = this.unitOf(i);
    const view = this.unitView(u);
    const r = i - this.starts[u];
    const T = this.seqLen;
    const ids = view.ids.subarray(r * T, (r + 1) * T);
    const lossView = view.loss.subarray(r * (T - 1), (r + 1) * (T - 1));
    const refLoss = lossView instanceof Float32Array ? lossView : Float32Array.from(lossView);
    const length = view.lengths[r];
    const valid = new Float32Array(T - 1);
    valid.fill(1, 0, Math.max(0, length - 1));
    const entry = this.manifest.units[u];
    return { ids, refLoss, valid, length, source: { file: entry.file, unit: entry.index } };
  }

  /** Documents starting in row i: [position, token count] pairs (a document may continue into later rows). */
  documentsIn(i: number): [number, number][] {
    const u = this.unitOf(i);
    const view = this.unitView(u);
    const r = i - this.starts[u];
    const out: [number, number][] = [];
    for (let d = 0; d < view.docs.length; d += 3)
      if (view.docs[d] === r) out.push([view.docs[d + 1], view.docs[d + 2]]);
    return out;
  }
}

/** 8 MiB, reused: the verifier's read buffer. */
const VERIFY_BUFFER = new Uint8Array(8 << 20);

function nonFinite(value: number, index: number, seqLen: number, file: string): ScoreError {
  const row = Math.floor(index / (seqLen - 1));
  return new ScoreError(
    "non_finite_loss",
    `reference loss ${value} at packed row ${row}, token ${(index % (seqLen - 1)) + 1}: this store cannot be trained on; rescore it`,
    { file },
  );
}

/** A NaN or Inf reference loss would rank tokens for selection from garbage: refuse it (padding holds 0). */
function checkFiniteLosses(view: UnitView, file: string): void {
  const { loss } = view;
  for (let i = 0; i < loss.length; i++)
    if (!Number.isFinite(loss[i])) throw nonFinite(loss[i], i, view.layout.seqLen, file);
}
