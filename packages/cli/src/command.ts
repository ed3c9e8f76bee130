import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { Readable } from "node:stream";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { IoError, Rho1Error, readJsonLines } from "@rho1/io";
import { STORIES260K_DIR } from "@rho1/model-stories260k";
import { parse as parseYaml } from "yaml";

/**
 * The embedded default model of commands whose --model is optional (stories260K, a real pretrained tiny Llama,
 * vocab 512), from @rho1/model-stories260k.
 */
export const DEFAULT_MODEL: string = STORIES260K_DIR;

/** Bad usage of the command line: printed as one line, exit code 2. */
export class UsageError extends Rho1Error {
  override name = "UsageError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("usage", message, details);
  }
}

/** Bad input (a file that is missing, malformed or inconsistent): printed as one line, exit code 1. */
export class InputError extends Rho1Error {
  override name = "InputError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("bad_input", message, details);
  }
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
/** Other names of options: alias -> the option's own name (e.g. Trainer's "learning-rate" -> "lr"). */
export type Aliases = Record<string, string>;

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** The known name closest to `name` (edit distance at most a third of its length, or a prefix), or null. */
export function closestName(name: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = candidate.startsWith(name) || name.startsWith(candidate) ? 1 : editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/** An option name as written (`learning_rate`, `Learning-Rate`) in rho1's spelling, aliases resolved. */
export function canonicalOptionName(name: string, aliases: Aliases = {}): string {
  const dashed = name.toLowerCase().replaceAll("_", "-");
  return aliases[dashed] ?? dashed;
}

/** argv with `--snake_case` and alias option names rewritten to the option's own name. */
function normalizeArgv(argv: string[], aliases: Aliases): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, i) => {
    if ((end >= 0 && i > end) || !arg.startsWith("--") || arg === "--") return arg;
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    return `--${canonicalOptionName(name, aliases)}${eq < 0 ? "" : arg.slice(eq)}`;
  });
}

/**
 * util.parseArgs with strict checking, whose errors become UsageError (exit 2) instead of a stack trace; an
 * unknown option gets a "did you mean". Option names may be written with - or _, and `aliases` name them too.
 * `--help` is always accepted and reported as `help: true`.
 */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  allowPositionals = false,
  aliases: Aliases = {},
) {
  const normalized = normalizeArgv(argv, aliases);
  // `--steps -5` is a value, not an option: parseArgs would call it "ambiguous"; joined as `--steps=-5` it reaches
  // the option's own check, which names the option and what it expects.
  const args = normalized.map((arg, i) => {
    const name = /^--([^=]+)$/.exec(normalized[i - 1] ?? "")?.[1];
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
    const message = (error as Error).message.split("\n")[0] as string;
    const unknown = /^Unknown option '--([^']+)'/.exec(message);
    if (unknown) {
      const near = closestName(unknown[1] as string, [...Object.keys(options), ...Object.keys(aliases)]);
      throw new UsageError(
        `unknown option --${unknown[1]}${near ? ` (did you mean --${near}?)` : ""}; --help lists them`,
      );
    }
    throw new UsageError(message);
  }
}

/** Option values as parseArgs returns them. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Reads a run config (JSON, or YAML for .yaml/.yml): an object whose keys are option names (with - or _, aliases
 * included) and whose values are what the command line would give. Returned as parseArgs values, so that the
 * command line's own values can override them key by key. A bad file or key is an InputError (exit 1).
 */
export function readRunConfig(path: string, options: Options, aliases: Aliases = {}): OptionValues {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(`--config ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let raw: unknown;
  const yaml = /^\.ya?ml$/i.test(extname(path));
  try {
    raw = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `${path}: not valid ${yaml ? "YAML" : "JSON"} (${(error as Error).message.split("\n")[0]})`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new InputError(
      `${path}: expected an object of option names to values, found ${Array.isArray(raw) ? "an array" : typeof raw}`,
    );
  const out: OptionValues = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = canonicalOptionName(key, aliases);
    const spec = options[name];
    if (!spec || name === "config") {
      const near = closestName(name, [...Object.keys(options), ...Object.keys(aliases)]);
      throw new InputError(`${path}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ""}`);
    }
    if (value === null || value === undefined) continue;
    const scalar = (v: unknown): string => {
      if (typeof v === "string" || typeof v === "number") return String(v);
      throw new InputError(`${path}: "${key}" expects a string or number, found ${JSON.stringify(v)}`);
    };
    if (spec.type === "boolean") {
      if (typeof value !== "boolean")
        throw new InputError(`${path}: "${key}" expects true or false, found ${JSON.stringify(value)}`);
      out[name] = value;
    } else if (spec.multiple) out[name] = (Array.isArray(value) ? value : [value]).map(scalar);
    else if (Array.isArray(value)) throw new InputError(`${path}: "${key}" takes one value, found a list`);
    else out[name] = scalar(value);
  }
  return out;
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

/** Lines are written to stdout in chunks of about this many characters (one syscall per chunk, not per line). */
const STDOUT_CHUNK = 1 << 16;

/** Buffered stdout writer for JSON-lines output. */
export function jsonLinesWriter() {
  let buffered = "";
  let failure: Error | null = null;
  const flush = () => {
    if (buffered === "") return;
    process.stdout.write(buffered, (error) => {
      if (error) failure ??= error;
    });
    buffered = "";
  };
  return {
    write(value: unknown) {
      buffered += `${JSON.stringify(value)}\n`;
      if (buffered.length >= STDOUT_CHUNK) flush();
    },
    async close() {
      flush();
      // Resolves once everything written before it has been handed to the OS (stdout writes complete in order).
      await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
      if (failure) throw failure;
    },
  };
}

/**
 * The stdin -> stdout loop of the JSON-lines commands: transform(value, line) for each record of stdin (`line` is
 * its 1-based line number; blank lines are skipped), its result written as one line. A line that is not JSON is bad
 * input: an InputError (exit 1) naming it. Lines written before an error are flushed, then the error thrown.
 */
export async function mapJsonLines(
  transform: (value: unknown, line: number) => unknown | Promise<unknown>,
  stdin: ReadableStream<Uint8Array> = Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>,
): Promise<void> {
  const out = jsonLinesWriter();
  try {
    for await (const { line, value } of readJsonLines(stdin, "stdin"))
      out.write(await transform(value, line));
  } catch (error) {
    if (error instanceof IoError) throw new InputError(error.message);
    throw error;
  } finally {
    await out.close();
  }
}
