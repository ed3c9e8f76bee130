/**
 * Random-access reader of a finished score store. Unit files are memory-mapped lazily (privately, so a
 * caller writing into a returned array never touches the file); nothing is loaded up front but the manifest.
 */
import { join } from "node:path";
import { ScoreError } from "./errors.ts";
import { readManifest, type ScoreManifest } from "./manifest.ts";
import { mapUnit, type UnitView } from "./unit-file.ts";

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

  /** Opens a finished store (its manifest.json); unit files are mapped on first use. */
  static open(dir: string): ScoreStore {
    return new ScoreStore(dir, readManifest(dir));
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
