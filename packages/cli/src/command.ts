import { type ParseArgsConfig, parseArgs } from "node:util";
import { IoError, readJsonLines } from "@rho1/io";
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
  // `--steps -5` is a value, not an option: parseArgs would call it "ambiguous"; joined as `--steps=-5` it reaches
  // the option's own check, which names the option and what it expects.
  const args = argv.map((arg, i) => {
    const name = /^--([^=]+)$/.exec(argv[i - 1] ?? "")?.[1];
    return name && options[name]?.type === "string" && /^-[\d.]/.test(arg) ? `\0${arg}` : arg;
  });
  const joined: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("\0")) joined[joined.length - 1] += `=${arg.slice(1)}`;
    else joined.push(arg);
  }
  try {
    return parseArgs({
      args: joined,
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
    (check.integer && !Number.isSafeInteger(value)) ||
    (check.min !== undefined && value < check.min) ||
    (check.max !== undefined && value > check.max);
  if (bad) {
    const kind = check.integer ? "an integer" : "a number";
    const { min, max } = check;
    const range =
      min !== undefined && max !== undefined
        ? ` in ${min === Number.MIN_VALUE ? "(0" : `[${min}`}, ${max}]`
        : `${min !== undefined ? ` >= ${min}` : ""}${max !== undefined ? ` <= ${max}` : ""}`;
    throw new UsageError(`--${name} expects ${kind}${range}, found ${JSON.stringify(raw)}`);
  }
  return value;
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
 * The stdin -> stdout loop of the JSON-lines commands: transform(value, line) for each record of stdin (`line` is
 * its 1-based line number; blank lines are skipped), its result written as one line. A line that is not JSON is a
 * UsageError naming it. Lines written before an error are flushed, then the error thrown.
 */
export async function mapJsonLines(
  transform: (value: unknown, line: number) => unknown | Promise<unknown>,
  stdin: ReadableStream<Uint8Array> = Bun.stdin.stream(),
): Promise<void> {
  const out = jsonLinesWriter();
  try {
    for await (const { line, value } of readJsonLines(stdin, "stdin"))
      out.write(await transform(value, line));
  } catch (error) {
    if (error instanceof IoError) throw new UsageError(error.message);
    throw error;
  } finally {
    await out.close();
  }
}
