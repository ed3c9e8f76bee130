import { Rho1Error } from "@rho1/io";

/** A tokenizer folder that cannot be loaded or used: names the file (when one is at fault) and what was wrong. */
export class TokenizerError extends Rho1Error {
  override name = "TokenizerError";
  readonly file?: string;

  constructor(message: string, file?: string, code = "bad_tokenizer") {
    super(
      code,
      file !== undefined && !message.includes(file) ? `${file}: ${message}` : message,
      file === undefined ? {} : { file },
    );
    this.file = file;
  }
}
