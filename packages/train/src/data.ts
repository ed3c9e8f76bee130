import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ioError } from "@rho1/io";
import {
  type CorpusTokenizer,
  DocumentPacker,
  padIdOf,
  planInputs,
  readUnitTexts,
  type ScoreStore,
} from "@rho1/reference-scorer";
import { TrainError } from "./errors.ts";

/** One training sequence: ids [seqLen]; valid [seqLen−1] (target t+1 is a real token); refLoss when scored. */
export interface Sequence {
  ids: Int32Array;
  valid: Float32Array;
  refLoss?: Float32Array;
}

/** Indexable packed sequences, from a score store or from tokenized text. */
export interface SequenceSource {
  readonly numSequences: number;
  readonly seqLen: number;
  readonly hasReference: boolean;
  /** Documents with a null or blank text, skipped (as the scorer skips them). */
  readonly skippedDocuments?: number;
  sequence(i: number): Sequence;
  /** Releases what the source holds open (packText's spill file); sequence() must not be called after. */
  close?(): void;
}

/**
 * Packs documents as the reference scorer does: [BOS] + tokens + [EOS] per non-empty document (BOS when the
 * tokenizer adds one), concatenated and cut into rows of seqLen; the last row is right-padded and its padding
 * positions are not valid targets. Unlike the scorer, which restarts rows at every unit so that units stay
 * independent, training cuts one stream over all files.
 *
 * Memory is bounded by one row group (or JSON-lines chunk), not by the corpus: each unit's tokens are appended to a
 * spill file in `spillDir` (default the system temp folder; train uses its --out), and `sequence(i)` reads its row
 * back with one pread. The file is unlinked as soon as it is open, so nothing is left behind even after SIGKILL.
 */
export async function packText(
  paths: string[],
  tokenizer: CorpusTokenizer,
  seqLen: number,
  textColumn = "text",
  spillDir = tmpdir(),
): Promise<SequenceSource> {
  const spill = new TokenSpill(spillDir);
  let skippedDocuments = 0;
  try {
    for (const file of await planInputs(paths, textColumn))
      for (const unit of file.units) {
        const packer = new DocumentPacker(tokenizer, { bos: tokenizer.addBos && tokenizer.bosId !== null });
        packer.add(await readUnitTexts(file, unit, textColumn));
        const tokens = packer.tokens;
        const packed = packer.finish(seqLen);
        skippedDocuments += packed.skipped;
        spill.append(packed.ids.subarray(0, tokens));
      }
    spill.flush();
  } catch (error) {
    spill.close();
    throw error;
  }
  const used = spill.tokens;
  if (used === 0 || used < 2) {
    spill.close();
    throw used === 0
      ? new TrainError(
          `no documents in ${paths.join(", ")} (empty files, or only empty or null texts)`,
          "empty_data",
        )
      : new TrainError(`--data: fewer than 2 tokens in ${paths.join(", ")}`, "empty_data");
  }
  const pad = padIdOf(tokenizer);
  return {
    numSequences: Math.ceil(used / seqLen),
    seqLen,
    hasReference: false,
    skippedDocuments,
    sequence(i: number): Sequence {
      const ids = new Int32Array(seqLen);
      const length = Math.min(seqLen, used - i * seqLen);
      spill.read(i * seqLen, ids.subarray(0, length));
      ids.fill(pad, length);
      const valid = new Float32Array(seqLen - 1);
      valid.fill(1, 0, Math.max(0, length - 1));
      return { ids, valid };
    },
    close: () => spill.close(),
  };
}

/** An append-only file of int32 tokens, read back by position (unlinked at once: it lives as long as its fd). */
class TokenSpill {
  private readonly fd: number;
  private readonly path: string;
  private readonly staging = new Int32Array(1 << 20);
  private staged = 0;
  private written = 0;
  private closed = false;

  constructor(dir: string) {
    this.path = join(dir, `.tmp-tokens-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      this.fd = openSync(this.path, "w+");
    } catch (error) {
      throw ioError(this.path, error, "cannot create the token spill file");
    }
    rmSync(this.path, { force: true });
  }

  get tokens(): number {
    return this.written + this.staged;
  }

  append(ids: Int32Array): void {
    for (let at = 0; at < ids.length; ) {
      const n = Math.min(ids.length - at, this.staging.length - this.staged);
      this.staging.set(ids.subarray(at, at + n), this.staged);
      this.staged += n;
      at += n;
      if (this.staged === this.staging.length) this.flush();
    }
  }

  flush(): void {
    const bytes = new Uint8Array(this.staging.buffer, 0, this.staged * 4);
    try {
      for (let done = 0; done < bytes.length; )
        done += writeSync(this.fd, bytes, done, bytes.length - done, this.written * 4 + done);
    } catch (error) {
      throw ioError(`${this.path} (the token spill file, already unlinked)`, error);
    }
    this.written += this.staged;
    this.staged = 0;
  }

  read(start: number, out: Int32Array): void {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    for (let done = 0; done < bytes.length; ) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, start * 4 + done);
      if (n === 0) throw new TrainError(`token spill file ended at token ${start + done / 4}`, "io");
      done += n;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * Wraps a score store after checking that it was made from this data with this tokenizer and sequence length:
 * the same files (name and size, in order), the same tokenizer.json hash, the same seqLen. Refuses any mismatch.
 */
export async function scoredSource(
  store: ScoreStore,
  dir: string,
  checks: { tokenizerHash: string; seqLen?: number; data: string[]; textColumn?: string },
): Promise<SequenceSource> {
  const m = store.manifest;
  if (checks.textColumn !== undefined && m.textColumn !== undefined && m.textColumn !== checks.textColumn) {
    throw new TrainError(
      `--ref-scores ${dir}: scored text column "${m.textColumn}", --text-column asks for "${checks.textColumn}"`,
      "score_mismatch",
    );
  }
  if (m.tokenizer.hash !== checks.tokenizerHash) {
    throw new TrainError(
      `--ref-scores ${dir}: scored with tokenizer ${m.tokenizer.hash.slice(0, 12)}…, the model's is ${checks.tokenizerHash.slice(0, 12)}…`,
      "score_mismatch",
    );
  }
  if (checks.seqLen !== undefined && m.seqLen !== checks.seqLen) {
    throw new TrainError(
      `--ref-scores ${dir}: sequence length ${m.seqLen}, --seq-len asks for ${checks.seqLen}`,
      "score_mismatch",
    );
  }
  const files = await Promise.all(
    checks.data.map(async (p) => ({ name: basename(p), size: (await stat(p)).size })),
  );
  const sources = m.sources.map((s) => ({ name: basename(s.path), size: s.size }));
  const same =
    files.length === sources.length &&
    files.every((f, i) => f.name === sources[i]?.name && f.size === sources[i]?.size);
  if (!same) {
    const show = (l: { name: string; size: number }[]) => l.map((f) => `${f.name} (${f.size} B)`).join(", ");
    throw new TrainError(
      `--ref-scores ${dir}: scored corpus [${show(sources)}] differs from --data [${show(files)}]`,
      "score_mismatch",
    );
  }
  if (store.numSequences === 0)
    throw new TrainError(`--ref-scores ${dir}: no documents in the scored corpus`, "empty_data");
  return {
    numSequences: store.numSequences,
    seqLen: m.seqLen,
    hasReference: true,
    sequence: (i) => {
      const { ids, valid, refLoss } = store.sequence(i); // fresh arrays, read from the unit file
      return { ids, valid, refLoss };
    },
    close: () => store.close(),
  };
}
