/**
 * Command-line options for the benchmark scripts: util.parseArgs, strict, with --help/-h added. --help prints the
 * usage (what the benchmark measures and its anchor, then each option with its default) and exits 0; an unknown
 * option, a missing value or a stray argument prints one line to stderr and exits 2 instead of a stack trace.
 * Only node: imports, so --help answers before anything heavy would be needed.
 */
import { relative } from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

type Values<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>["values"];

export interface BenchArgsSpec<O> {
  /** One line: what the benchmark measures and against which anchor. */
  usage: string;
  /** Optional one-line description per option, printed after its default. */
  describe?: Partial<Record<keyof O & string, string>>;
}

/** This script's path as the user would type it (relative to the working directory when inside it). */
function scriptName(): string {
  const main = process.argv[1] ?? "benchmark";
  const rel = relative(process.cwd(), main);
  return rel && !rel.startsWith("..") ? rel : main;
}

function formatUsage(options: ParseArgsOptionsConfig, spec: BenchArgsSpec<ParseArgsOptionsConfig>): string {
  const rows: [string, string, string][] = [];
  for (const [name, opt] of Object.entries(options)) {
    const flag = `${opt.short ? `-${opt.short}, ` : ""}--${name}${opt.type === "string" ? " <value>" : ""}${opt.multiple ? " ..." : ""}`;
    const def =
      opt.type === "boolean" && !opt.multiple
        ? `default ${opt.default ? "on" : "off"}`
        : opt.default !== undefined
          ? `default ${Array.isArray(opt.default) ? opt.default.join(",") : String(opt.default)}`
          : "no default";
    rows.push([flag, def, spec.describe?.[name] ?? ""]);
  }
  rows.push(["-h, --help", "", "print this and exit"]);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const lines = rows.map(([f, d, text]) => `  ${f.padEnd(w0)}  ${d.padEnd(w1)}  ${text}`.trimEnd());
  return `${spec.usage}\n\nusage: bun ${scriptName()} [options]\n\noptions:\n${lines.join("\n")}\n`;
}

/**
 * parseArgs(process.argv.slice(2)) with `options` plus --help/-h, strict and without positionals. Prints the usage
 * and exits 0 on --help; prints `<script>: <reason> (--help lists the options)` to stderr and exits 2 on a bad
 * command line. Returns the parsed values, typed as parseArgs would type them.
 */
export function benchArgs<O extends ParseArgsOptionsConfig>(options: O, spec: BenchArgsSpec<O>): Values<O> {
  const all = { ...options, help: { type: "boolean", short: "h" } } satisfies ParseArgsOptionsConfig;
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: all,
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    process.stderr.write(`${scriptName()}: ${reason} (--help lists the options)\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(formatUsage(options, spec as BenchArgsSpec<ParseArgsOptionsConfig>));
    process.exit(0);
  }
  delete values.help;
  return values as Values<O>;
}
