/**
 * Random-access reader of a finished score store. A training run reads rows at random all over the store, so rows
 * are read with pread into fresh arrays rather than memory-mapped: a mapping of every unit touched would stay
 * resident (a 1.5 GB store, fully touched after a few hundred steps, added 1.5 GB to the trainer's RSS). Per unit
 * the store keeps only its layout and row lengths (4 bytes a row) and at most a few open files. Whole-unit scans
 * (`select`, `score export`) map one unit at a time through unitView().
 *
 * Trust: `open(dir, { verify: true })` checks every unit against the manifest (size, sha256, layout, finite
 * losses) before returning, so a consumer that trains on the store never takes a step on data that changed after
 * scoring. Without it (stores on trusted storage) sizes are still checked at open, and each unit's layout and
 * losses on its first use, before its first row is returned.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import { readInto } from "@rho1/io";
import { ScoreError } from "./errors.ts";
import { readManifest, type ScoreManifest } from "./manifest.ts";
import { decodeUnitHeader, float16ArrayClass, mapUnit, type UnitLayout, type UnitView } from "./unit-file.ts";

export interface ScoredSequence {
  /** [seqLen] token ids. */
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

/** What sequence() needs of a unit, read once: its layout and the real length of each row. */
interface UnitIndex {
  layout: UnitLayout;
  lengths: Uint32Array;
}

/** Unit files held open at once (least recently used closed first): random reads reopen rarely, fds stay few. */
const OPEN_UNITS = 8;

export class ScoreStore {
  readonly manifest: ScoreManifest;
  readonly numSequences: number;
  readonly seqLen: number;
  /** Each unit file's path, joined once (row reads name it in their errors). */
  private readonly paths: string[];
  private readonly starts: number[];
  private readonly indexes: (UnitIndex | undefined)[];
  /** Every unit's losses were checked finite at open (verify), so first use need not stream them again. */
  private lossesChecked = false;
  private readonly open = new Map<number, number>();
  private lastView: { unit: number; view: UnitView } | null = null;

  private constructor(dir: string, manifest: ScoreManifest) {
    this.manifest = manifest;
    this.seqLen = manifest.seqLen;
    this.numSequences = manifest.counts.sequences;
    this.starts = manifest.units.map((u) => u.firstSequence);
    this.indexes = new Array(manifest.units.length);
    this.paths = manifest.units.map((e) => join(dir, e.path));
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
    if (options.verify) {
      for (let u = 0; u < store.manifest.units.length; u++) store.verifyUnit(u);
      store.lossesChecked = true;
    }
    return store;
  }

  /**
   * Streams unit u's file (never mapped, so RSS does not grow with the store): its sha256 must equal the
   * manifest's and every stored loss must be finite (padding positions hold 0).
   */
  verifyUnit(u: number): void {
    const entry = this.manifest.units[u];
    const path = this.paths[u];
    const hasher = createHash("sha256");
    const fd = openSync(path, "r");
    let lossStart = 0;
    let lossEnd = 0;
    let f16 = false;
    try {
      for (let at = 0; ; ) {
        // Filled whole (a short read mid-file would split a loss value across chunks).
        const n = readInto(fd, VERIFY_BUFFER, at);
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
          // from - at is 8-aligned (lossStart is, and so is every chunk start): a view, not a copy.
          const values = verifyBufferLosses(f16 ? 2 : 4, from - at, to - from, path);
          assertFinite(values, (from - lossStart) / (f16 ? 2 : 4), this.seqLen, path);
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

  /** The open file of unit u (kept among the OPEN_UNITS most recently used). */
  private fileOf(u: number): number {
    let fd = this.open.get(u);
    if (fd !== undefined) {
      this.open.delete(u);
      this.open.set(u, fd);
      return fd;
    }
    const path = this.paths[u];
    try {
      fd = openSync(path, "r");
    } catch (error) {
      throw new ScoreError("corrupt_store", `cannot open unit file (${(error as Error).message})`, {
        file: path,
      });
    }
    this.open.set(u, fd);
    if (this.open.size > OPEN_UNITS) {
      const [oldest, oldestFd] = this.open.entries().next().value as [number, number];
      this.open.delete(oldest);
      closeSync(oldestFd);
    }
    return fd;
  }

  /** Unit u's layout and row lengths, checked against the manifest (and its losses finite) on first use. */
  private unitIndex(u: number): UnitIndex {
    let index = this.indexes[u];
    if (!index) {
      const path = this.paths[u];
      const fd = this.fileOf(u);
      const header = new Uint8Array(64);
      preadFully(fd, header, 0, path);
      const layout = decodeUnitHeader(header, path);
      this.checkLayout(u, layout);
      const lengths = new Uint32Array(layout.sequences);
      preadFully(fd, bytesOf(lengths), layout.lengthsOffset, path);
      if (!this.lossesChecked) checkLossesFinite(fd, layout, path);
      index = { layout, lengths };
      this.indexes[u] = index;
    }
    return index;
  }

  private checkLayout(u: number, layout: UnitLayout): void {
    const entry = this.manifest.units[u];
    const path = this.paths[u];
    if (layout.sequences !== entry.sequences || layout.seqLen !== this.seqLen) {
      throw new ScoreError(
        "corrupt_store",
        `unit holds ${layout.sequences} rows of ${layout.seqLen}, manifest says ${entry.sequences} of ${this.seqLen}`,
        { file: path },
      );
    }
    if (layout.bytes !== entry.bytes)
      throw new ScoreError(
        "corrupt_store",
        `unit file has ${entry.bytes} bytes, its header implies ${layout.bytes}`,
        { file: path },
      );
  }

  /**
   * Unit u's file mapped whole, for scans that read every row of a unit (select, export), checked against the
   * manifest on first use. The store keeps only the latest view, so a scan holds one unit at a time.
   */
  unitView(u: number): UnitView {
    if (this.lastView?.unit === u) return this.lastView.view;
    const path = this.paths[u];
    const view = mapUnit(path);
    this.checkLayout(u, view.layout);
    if (!this.lossesChecked && !this.indexes[u]) assertFinite(view.loss, 0, view.layout.seqLen, path);
    this.indexes[u] ??= { layout: view.layout, lengths: Uint32Array.from(view.lengths) };
    this.lastView = { unit: u, view };
    return view;
  }

  sequence(i: number): ScoredSequence {
    const u = this.unitOf(i);
    const { layout, lengths } = this.unitIndex(u);
    const path = this.paths[u];
    const fd = this.fileOf(u);
    const r = i - this.starts[u];
    const T = this.seqLen;
    const ids = new Int32Array(T);
    preadFully(fd, bytesOf(ids), layout.idsOffset + 4 * r * T, path);
    let refLoss: Float32Array;
    if (layout.lossDtype === "f32") {
      refLoss = new Float32Array(T - 1);
      preadFully(fd, bytesOf(refLoss), layout.lossOffset + 4 * r * (T - 1), path);
    } else {
      const half = new (float16ArrayClass(path))(T - 1);
      preadFully(fd, bytesOf(half), layout.lossOffset + 2 * r * (T - 1), path);
      refLoss = Float32Array.from(half);
    }
    const length = lengths[r] as number;
    const valid = new Float32Array(T - 1);
    valid.fill(1, 0, Math.max(0, length - 1));
    const entry = this.manifest.units[u];
    return { ids, refLoss, valid, length, source: { file: entry.file, unit: entry.index } };
  }

  /** Closes the unit files held open; the store can still be read (files reopen on use). */
  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
    this.lastView = null;
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

/** The loss values in VERIFY_BUFFER's bytes [offset, offset + bytes), as a view (offset 8-aligned). */
function verifyBufferLosses(width: 2 | 4, offset: number, bytes: number, path: string) {
  return width === 2
    ? new (float16ArrayClass(path))(VERIFY_BUFFER.buffer, offset, Math.floor(bytes / 2))
    : new Float32Array(VERIFY_BUFFER.buffer, offset, Math.floor(bytes / 4));
}

function nonFinite(value: number, index: number, seqLen: number, file: string): ScoreError {
  const row = Math.floor(index / (seqLen - 1));
  return new ScoreError(
    "non_finite_loss",
    `reference loss ${value} at packed row ${row}, token ${(index % (seqLen - 1)) + 1}: this store cannot be trained on; rescore it`,
    { file },
  );
}

const bytesOf = (a: Int32Array | Uint32Array | Float32Array | Float16Array) =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function preadFully(fd: number, into: Uint8Array, position: number, path: string): void {
  const done = readInto(fd, into, position);
  if (done < into.length)
    throw new ScoreError("corrupt_store", `unit file ends at byte ${position + done}, before its data`, {
      file: path,
    });
}

/** Streams a unit's loss section through the verifier's buffer: every value must be finite. */
function checkLossesFinite(fd: number, layout: UnitLayout, path: string): void {
  const width = layout.lossDtype === "f16" ? 2 : 4;
  const total = layout.sequences * (layout.seqLen - 1) * width;
  for (let done = 0; done < total; ) {
    const n = Math.min(VERIFY_BUFFER.length, total - done);
    preadFully(fd, VERIFY_BUFFER.subarray(0, n), layout.lossOffset + done, path);
    assertFinite(verifyBufferLosses(width, 0, n, path), done / width, layout.seqLen, path);
    done += n;
  }
}

/**
 * A NaN or Inf reference loss would rank tokens for selection from garbage: refuse it (padding holds 0). `base` is
 * the index of `values[0]` among the unit's losses, so the error names the row and position.
 */
function assertFinite(values: ArrayLike<number>, base: number, seqLen: number, file: string): void {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i])) throw nonFinite(values[i], base + i, seqLen, file);
}
