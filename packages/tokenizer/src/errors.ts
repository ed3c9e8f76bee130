/** A tokenizer folder that cannot be loaded or used: names the file (when one is at fault) and what was wrong. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
  readonly file?: string;

  constructor(message: string, file?: string) {
    super(file !== undefined && !message.includes(file) ? `${file}: ${message}` : message);
    this.file = file;
  }
}
