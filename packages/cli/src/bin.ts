#!/usr/bin/env bun
// The `rho1` command. Published, its first line becomes a launcher that runs it with bun when bun is on PATH, else
// with node (scripts/build.ts, BIN_LAUNCHER).
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
