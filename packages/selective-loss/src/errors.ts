/** Bad input to the selective loss: names the field, what was expected and what was found. */
export class SelectiveLossError extends Error {
  override name = "SelectiveLossError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`selective loss: ${field}: expected ${expected}, found ${found}`);
  }
}
