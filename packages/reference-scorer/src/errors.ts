/**
 * Every failure of the scorer that a user can cause (bad input file, mismatched model and tokenizer, a store
 * that does not match the command) is a ScoreError naming the file and, for parquet, the row group.
 */
export class ScoreError extends Error {
  override name = "ScoreError";
  /** Stable machine-readable reason, e.g. "missing_column", "corrupt_input", "vocab_mismatch". */
  readonly code: string;
  readonly file?: string;
  readonly rowGroup?: number;

  constructor(code: string, message: string, where: { file?: string; rowGroup?: number } = {}) {
    const place =
      where.file === undefined
        ? ""
        : `${where.file}${where.rowGroup === undefined ? "" : ` (row group ${where.rowGroup})`}: `;
    super(`${place}${message}`);
    this.code = code;
    this.file = where.file;
    this.rowGroup = where.rowGroup;
  }
}
