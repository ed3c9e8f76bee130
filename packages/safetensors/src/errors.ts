import { Rho1Error } from "@rho1/io";

/**
 * Every problem with a safetensors file or checkpoint surfaces as this one class, so callers (and the fuzz test)
 * can rely on `instanceof SafetensorsError` and branch on `code`.
 */
export class SafetensorsError extends Rho1Error {
  override name = "SafetensorsError";
  /** The file the problem is in (a .safetensors file, an index JSON or a folder). */
  readonly file: string;
  /** The tensor concerned, when there is one. */
  readonly tensor?: string;

  /** `code`: a stable reason, e.g. "invalid_offsets", "unknown_dtype", "missing_tensor". */
  constructor(code: string, file: string, message: string, tensor?: string) {
    super(code, `${file}: ${message}`, tensor === undefined ? { file } : { file, tensor });
    this.file = file;
    if (tensor !== undefined) this.tensor = tensor;
  }
}

/** Quotes a value for an error message, cut short so a hostile header cannot produce megabyte-long messages. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "bigint" ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
