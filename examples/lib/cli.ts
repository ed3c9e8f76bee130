/** Option parsing for the demo and the experiment: util.parseArgs (strict); a bad option prints one line + usage, exit 2. */
import { type ParseArgsConfig, parseArgs } from "node:util";

export function usageError(script: string, usage: string, message: string): never {
  process.stderr.write(`${script}: ${message}\n\n${usage}\n`);
  process.exit(2);
}

export function parseScriptArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  script: string,
  usage: string,
  options: T,
) {
  try {
    const parsed = parseArgs({ options, strict: true, allowPositionals: false });
    if ((parsed.values as Record<string, unknown>).help) {
      console.log(usage);
      process.exit(0);
    }
    return parsed.values;
  } catch (error) {
    return usageError(script, usage, (error as Error).message);
  }
}
