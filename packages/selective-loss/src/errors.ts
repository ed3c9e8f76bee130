import { Rho1Error } from "@rho1/io";

/** Bad input to the selective loss: names the field, what was expected and what was found. */
export class SelectiveLossError extends Rho1Error {
  override name = "SelectiveLossError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super("bad_input", `selective loss: ${field}: expected ${expected}, found ${found}`, {
      field,
      expected,
      found,
    });
  }
}
