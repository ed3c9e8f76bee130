import { Rho1Error } from "@rho1/io";

/** Bad input to a report builder: names the field, what was expected and what was found. */
export class ReportError extends Rho1Error {
  override name = "ReportError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super("bad_input", `${field}: expected ${expected}, found ${found}`, { field, expected, found });
  }
}
