/**
 * The one error shape of every rho1 package: a stable machine-readable `code`, a one-line `message` that names
 * the file and the values at fault, and `details` (file, field, line, expected, found, ...) for programs.
 * Each package subclasses it only to give its errors a name (`ScoreError`, `TrainError`, ...).
 */
export class Rho1Error extends Error {
  override name = "Rho1Error";
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** A file that cannot be read or written, or a JSON-lines record that is not JSON. */
export class IoError extends Rho1Error {
  override name = "IoError";
}
