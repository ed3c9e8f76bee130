/**
 * Stage runner for the demo: runs named stages in order, prints progress, times each one, and on a second run
 * reuses a stage whose inputs (options + the bytes of its input files/folders) are unchanged and whose outputs
 * still exist — unless `fresh`. A stage that produces the same bytes again lets the stages after it be reused too.
 * The TensorFlow.js backend is part of every key: a run on another backend (RHO1_BACKEND=webgpu after a cpu run) is
 * asked for that backend's results, so it recomputes rather than reporting the other backend's.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export interface StageRecord {
  name: string;
  /** Seconds the stage took when it last ran (for a reused stage: the run that produced its outputs). */
  seconds: number;
  reused: boolean;
}

export interface StageSpec {
  /** JSON-serialisable options that determine the outputs (seeds, sizes, hyper-parameters). */
  options?: unknown;
  /** Files or folders read by the stage: their bytes are part of the key. */
  inputs?: string[];
  /** Files or folders the stage writes; all must exist for reuse. */
  outputs: string[];
}

/** sha256 over a file's bytes, or a folder's files (sorted relative paths + bytes); missing → "missing". */
export function hashPath(path: string): string {
  if (!existsSync(path)) return "missing";
  const hash = createHash("sha256");
  const visit = (p: string, rel: string) => {
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.includes(".tmp-")) continue; // half-written files of a crashed run
        visit(join(p, name), `${rel}/${name}`);
      }
    } else {
      hash.update(`${rel}\0${statSync(p).size}\0`);
      hash.update(readFileSync(p));
    }
  };
  visit(path, "");
  return hash.digest("hex");
}

export class Pipeline {
  readonly records: StageRecord[] = [];
  private readonly stampDir: string;

  constructor(
    private readonly opts: {
      workDir: string;
      /** The TensorFlow.js backend the stages compute on (tf.getBackend()): part of every stage's key. */
      backend: string;
      fresh?: boolean;
      log?: (line: string) => void;
    },
  ) {
    this.stampDir = join(opts.workDir, ".stages");
    mkdirSync(this.stampDir, { recursive: true });
  }

  private log(line: string) {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  /** Runs `run` unless a previous run with the same key left its outputs; returns whether it was reused. */
  async stage(name: string, spec: StageSpec, run: () => Promise<void> | void): Promise<{ reused: boolean }> {
    const key = createHash("sha256")
      .update(
        JSON.stringify({
          backend: this.opts.backend,
          options: spec.options ?? null,
          inputs: (spec.inputs ?? []).map(hashPath),
        }),
      )
      .digest("hex");
    const stampPath = join(this.stampDir, `${name.replace(/[^\w.-]+/g, "_")}.json`);
    if (!this.opts.fresh && existsSync(stampPath) && spec.outputs.every((o) => existsSync(o))) {
      const stamp = JSON.parse(readFileSync(stampPath, "utf8")) as { key: string; seconds: number };
      if (stamp.key === key) {
        this.log(
          `[${name}] reused (inputs unchanged; took ${stamp.seconds.toFixed(1)} s on ${this.opts.backend})`,
        );
        this.records.push({ name, seconds: stamp.seconds, reused: true });
        return { reused: true };
      }
    }
    rmSync(stampPath, { force: true });
    this.log(`[${name}] running…`);
    const t0 = performance.now();
    await run();
    const seconds = (performance.now() - t0) / 1000;
    const missing = spec.outputs.filter((o) => !existsSync(o));
    if (missing.length) throw new Error(`stage ${name}: finished without writing ${missing.join(", ")}`);
    const tmp = `${stampPath}.tmp-${process.pid}`;
    writeFileSync(
      tmp,
      JSON.stringify({ key, backend: this.opts.backend, seconds, finishedAt: new Date().toISOString() }),
    );
    renameSync(tmp, stampPath);
    this.log(`[${name}] done in ${seconds.toFixed(1)} s`);
    this.records.push({ name, seconds, reused: false });
    return { reused: false };
  }
}
