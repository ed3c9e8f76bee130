import { Rho1Error } from "@rho1/io";

/** A training run that cannot start or continue: bad options, mismatched data, a non-finite loss. */
export class TrainError extends Rho1Error {
  override name = "TrainError";
  constructor(message: string, code: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}
