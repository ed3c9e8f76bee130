#!/usr/bin/env bun
import { readFileSync } from "node:fs";
import { isBun, runtimeName } from "@rho1/io";
import { registerBackendExtension, registerWebGPUProvider } from "@rho1/transformer";
import { type Command, InputError, UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";

// The native CPU kernels are an optional speed-up: setupBackend() tries them after tfjs-node(-gpu) and falls back to
// the plain cpu backend with one notice when a C compiler is missing (or RHO1_NATIVE=0). The start-up line names
// the BLAS they use.
// Under Node they are skipped with the same one notice (they load through bun:ffi).
registerBackendExtension("tfjs-native", async () => {
  if (isBun) return (await import("@rho1/tfjs-native")).nativeBackendExtension();
  process.stderr.write(
    `rho1: native kernels off (@rho1/tfjs-native needs Bun; this is ${runtimeName}); using the pure TensorFlow.js path\n`,
  );
  return false;
});
// WebGPU (Dawn): picked automatically on a hardware adapter, or forced with RHO1_BACKEND=webgpu (then a software
// adapter such as Mesa's lavapipe is used too). Loaded only when tried.
registerWebGPUProvider(async (opts) => (await import("@rho1/tfjs-webgpu")).setupWebGPU(opts));

const HELP = `rho1 — Selective Language Modeling (Rho-1) in TypeScript, on Bun or Node

usage: rho1 <command> [options]    (rho1 <command> --help for its options)

commands:
${commands.map((c: Command) => `  ${c.name.padEnd(16)}${c.summary}`).join("\n")}
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = commands.find((c: Command) => c.name === name);
  if (!command) {
    process.stderr.write(`rho1: unknown command '${name}' (rho1 --help lists them)\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage.trim()}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`rho1 ${name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InputError) {
      process.stderr.write(`rho1 ${name}: ${error.message}\n`);
      return 1;
    }
    // Typed library errors (SafetensorsError, TokenizerError, ...) carry a message that names the file and
    // values; print that one line rather than a stack trace unless RHO1_DEBUG is set.
    const err = error as Error;
    process.stderr.write(`rho1 ${name}: ${err.name ?? "Error"}: ${err.message}\n`);
    if (process.env.RHO1_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

// `bun src/main.ts` in the monorepo; the installed command runs bin.ts (Node has no import.meta.main before 24).
if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
