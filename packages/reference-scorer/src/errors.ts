import { Rho1Error } from "@rho1/io";

/**
 * Every failure of the scorer that a user can cause (bad input file, mismatched model and tokenizer, a store
 * that does not match the command) is a ScoreError naming the file and, for parquet, the row group.
 */
export class ScoreError extends Rho1Error {
  override name = "ScoreError";
  readonly file?: string;
  readonly rowGroup?: number;

  /** `code`: a stable reason, e.g. "missing_column", "corrupt_input", "vocab_mismatch". */
  constructor(code: string, message: string, where: { file?: string; rowGroup?: number } = {}) {
    const place =
      where.file === undefined
        ? ""
        : `${where.file}${where.rowGroup === undefined ? "" : ` (row group ${where.rowGroup})`}: `;
    super(code, `${place}${message}`, where);
    this.file = where.file;
    this.rowGroup = where.rowGroup;
  }
}

/** "no documents in …": the corpus has no non-empty text (empty files, or only null / blank texts). */
export function emptyInput(files: { path: string }[]): ScoreError {
  const names = files.map((f) => f.path);
  const list =
    names.length <= 3 ? names.join(", ") : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
  return new ScoreError("empty_input", `no documents in ${list} (empty files, or only empty or null texts)`);
}
