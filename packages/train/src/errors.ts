/** A training run that cannot start or continue: bad options, mismatched data, a non-finite loss. */
export class TrainError extends Error {
  override name = "TrainError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
