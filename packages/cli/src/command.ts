import { type ParseArgsConfig, parseArgs } from "node:util";
import { STORIES260K_DIR } from "@rho1/model-stories260k";

/**
 * The embedded default model of commands whose --model is optional (stories260K, a real pretrained tiny Llama,
 * vocab 512), from @rho1/model-stories260k.
 */
export const DEFAULT_MODEL: string = STORIES260K_DIR;

/** Bad usage of the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One `rho1 <name>` sub-command. `run` returns the process exit code. */
export interface Command {
  name: string;
  /** One line for `rho1 --help`. */
  summary: string;
  /** Full text for `rho1 <name> --help`. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * util.parseArgs with strict checking, whose errors become UsageError (exit 2) instead of a stack trace.
 * `--help` is always accepted and reported as `help: true`.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
}

/** Reads a required string option or throws UsageError naming it. */
export function requireOption(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`missing required option --${name}`);
  return value;
}

/** Parses a numeric option; throws UsageError naming the option and the value found. */
export function numberOption(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  check: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const bad =
    typeof raw !== "string" ||
    raw.trim() === "" ||
    !Number.isFinite(value) ||
    (check.integer && !Number.isInteger(value)) ||
    (check.min !== undefined && value < check.min) ||
    (check.max !== undefined && value > check.max);
  if (bad) {
    const kind = check.integer ? "an integer" : "a number";
    const range = `${check.min !== undefined ? ` >= ${check.min}` : ""}${check.max !== undefined ? ` <= ${check.max}` : ""}`;
    throw new UsageError(`--${name} expects ${kind}${range}, found ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads all of stdin as JSON lines (blank lines skipped); a malformed line is a UsageError naming its number. */
export async function* readJsonLines(
  stream: ReadableStream<Uint8Array> = Bun.stdin.stream(),
): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffered = "";
  let lineNumber = 0;
  const parse = (line: string) => {
    lineNumber++;
    if (line.trim() === "") return undefined;
    try {
      return { value: JSON.parse(line) as unknown };
    } catch {
      throw new UsageError(`stdin line ${lineNumber}: not valid JSON: ${line.slice(0, 80)}`);
    }
  };
  const reader = stream.getReader();
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done) break;
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const parsed = parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (parsed) yield parsed.value;
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  const last = parse(buffered);
  if (last) yield last.value;
}

/** Buffered stdout writer for JSON-lines output (one syscall per chunk, not per line). */
export function jsonLinesWriter() {
  const writer = Bun.stdout.writer();
  return {
    write(value: unknown) {
      writer.write(`${JSON.stringify(value)}\n`);
    },
    async close() {
      await writer.flush();
    },
  };
}

/**
 * The stdin -> stdout loop of the JSON-lines commands: transform(value, n) for the n-th record (1-based, blank
 * lines skipped), its result written as one line. Lines written before an error are flushed, then the error thrown.
 */
export async function mapJsonLines(
  transform: (value: unknown, n: number) => unknown | Promise<unknown>,
): Promise<void> {
  const out = jsonLinesWriter();
  let n = 0;
  try {
    for await (const value of readJsonLines()) out.write(await transform(value, ++n));
  } finally {
    await out.close();
  }
}
