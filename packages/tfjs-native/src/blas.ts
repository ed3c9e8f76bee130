/**
 * Which BLAS runs each matmul. `RHO1_BLAS=builtin` always uses the built-in SGEMM (native/gemm.c), `openblas`
 * always OpenBLAS, `auto` (the default) the built-in one unless OpenBLAS is loaded and a first-use timing of both
 * on that very product shape found OpenBLAS faster. Decisions are remembered per machine in the cache directory
 * (keyed by the compiled library, the OpenBLAS file, its core type and the thread count), so the timing runs once.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "@rho1/io";

export const BLAS_MODES = ["builtin", "openblas", "auto"] as const;
export type BlasMode = (typeof BLAS_MODES)[number];

/** RHO1_BLAS (or an explicit option) as a mode; anything else is an error naming the accepted values. */
export function blasMode(value: string | undefined = process.env.RHO1_BLAS): BlasMode {
  const v = value?.trim().toLowerCase() || "auto";
  if ((BLAS_MODES as readonly string[]).includes(v)) return v as BlasMode;
  throw new Error(`RHO1_BLAS=${value}: expected one of ${BLAS_MODES.join(", ")}`);
}

/** Products below this many flops are not worth a timing: the built-in SGEMM runs them (no thread wake-ups). */
const AUTO_MIN_FLOPS = 2 ** 24;
/** Timed runs per BLAS on a shape's first use (the fastest counts; the machine may be busy). */
const AUTO_REPS = 2;

type Choice = "builtin" | "openblas";

export class BlasChooser {
  private readonly decisions: Record<string, Choice> = {};
  /** Set by pin(): every call on that BLAS (benchmarks compare both in one process). */
  private pinned: 0 | 1 | null = null;

  /**
   * mode: as configured; openblas: whether OpenBLAS is loaded; file: where auto decisions persist (null: nowhere).
   */
  constructor(
    readonly mode: BlasMode,
    readonly openblas: boolean,
    private readonly file: string | null,
  ) {
    if (mode === "auto" && openblas && file && existsSync(file)) {
      try {
        Object.assign(this.decisions, JSON.parse(readFileSync(file, "utf8")));
      } catch {
        // an unreadable decision file is re-timed and rewritten
      }
    }
  }

  /** The persisted-decision file for a library/OpenBLAS/threads combination. */
  static fileFor(cacheDir: string, parts: unknown[]): string {
    const key = createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 24);
    return `${cacheDir}/blas-auto-${key}.json`;
  }

  /** The auto decisions made so far, by shape key (for status and benchmarks). */
  get decided(): Readonly<Record<string, Choice>> {
    return this.decisions;
  }

  /**
   * Runs one product: call(1) on OpenBLAS, call(0) on the built-in SGEMM. Every call writes the whole output, so
   * the first use of a shape under auto times both on the real operands, then runs the winner once more if it was
   * not the last to write (the result always comes from the BLAS this shape uses from then on).
   */
  run(shape: string, flops: number, call: (openblas: 0 | 1) => void): void {
    const fixed = this.fixedChoice(shape, flops);
    if (fixed !== null) {
      call(fixed);
      return;
    }
    const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    for (let rep = 0; rep < AUTO_REPS; rep++) {
      for (const which of [0, 1] as const) {
        const t0 = performance.now();
        call(which);
        best[which] = Math.min(best[which], performance.now() - t0);
      }
    }
    const choice: Choice = best[1] < best[0] ? "openblas" : "builtin";
    if (choice === "builtin") call(0); // OpenBLAS wrote last
    this.decisions[shape] = choice;
    this.save();
  }

  /** Runs fn with every product on one BLAS (OpenBLAS only if loaded: an error otherwise). */
  pin<T>(blas: Choice, fn: () => T): T {
    if (blas === "openblas" && !this.openblas) throw new Error("OpenBLAS is not loaded");
    const before = this.pinned;
    this.pinned = blas === "openblas" ? 1 : 0;
    try {
      return fn();
    } finally {
      this.pinned = before;
    }
  }

  /** The BLAS for a call without timing, or null when auto has yet to time this shape. */
  private fixedChoice(shape: string, flops: number): 0 | 1 | null {
    if (this.pinned !== null) return this.pinned;
    if (this.mode === "builtin" || !this.openblas || (this.mode === "auto" && flops < AUTO_MIN_FLOPS))
      return 0;
    if (this.mode === "openblas") return 1;
    const known = this.decisions[shape];
    return known ? (known === "openblas" ? 1 : 0) : null;
  }

  private save(): void {
    if (!this.file) return;
    try {
      writeFileAtomic(this.file, JSON.stringify(this.decisions));
    } catch {
      // a read-only cache only costs the timing again next time
    }
  }
}
