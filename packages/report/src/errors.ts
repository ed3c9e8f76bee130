/** Bad input to a report builder: names the field, what was expected and what was found. */
export class ReportError extends Error {
  override name = "ReportError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${field}: expected ${expected}, found ${found}`);
  }
}
