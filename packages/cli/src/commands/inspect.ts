import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  numel,
  openCheckpoint,
  SafetensorsFile,
  ShardedCheckpoint,
  type TensorSource,
} from "@rho1/safetensors";
import { ConfigError, type LlamaConfig, readConfig } from "@rho1/transformer";
import { type Command, parseCommandArgs, UsageError } from "../command.ts";

const USAGE = `usage: rho1 inspect PATH [--json]

Lists the tensors of a checkpoint folder (model.safetensors, or model.safetensors.index.json + shards) or of one
.safetensors file: name, dtype, shape and bytes, the parameter count, and for a folder a summary of config.json.

  PATH      a Hugging Face checkpoint folder or a .safetensors file
  --json    print one JSON object instead of a table`;

/** What config.json says about the architecture, in either transformers dialect (4.x top-level, 5.x nested). */
export interface ConfigSummary {
  architecture: string | null;
  hiddenSize: number | null;
  numLayers: number | null;
  numHeads: number | null;
  numKvHeads: number | null;
  vocabSize: number | null;
  ropeTheta: number | null;
  dtype: string | null;
}

export interface InspectReport {
  path: string;
  kind: "file" | "checkpoint";
  /** The .safetensors files read (one, or every shard). */
  files: string[];
  metadata: Record<string, string>;
  config: ConfigSummary | null;
  /** Why config.json could not be loaded (e.g. an architecture rho1 does not implement). */
  configError?: string;
  tensors: { name: string; dtype: string; shape: number[]; bytes: number }[];
  parameters: number;
  bytes: number;
}

/** The summary of a parsed config (transformer's parser, both transformers dialects). */
export function summarizeConfig(c: LlamaConfig): ConfigSummary {
  return {
    architecture: c.architecture,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numKvHeads: c.numKvHeads,
    vocabSize: c.vocabSize,
    ropeTheta: c.ropeTheta,
    dtype: c.dtype,
  };
}

/** The folder's config summary; null without config.json; a config rho1 cannot load is reported, not fatal. */
function folderConfig(dir: string): { config: ConfigSummary | null; configError?: string } {
  if (!existsSync(join(dir, "config.json"))) return { config: null };
  try {
    return { config: summarizeConfig(readConfig(dir)) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { config: null, configError: error.message };
  }
}

export function inspectPath(path: string): InspectReport {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const source: TensorSource = openCheckpoint(path);
  try {
    const files =
      source instanceof ShardedCheckpoint
        ? source.shards.map((s) => s.path)
        : source instanceof SafetensorsFile
          ? [source.path]
          : [];
    const tensors = source.names.map((name) => {
      const { dtype, shape, begin, end } = source.info(name);
      return { name, dtype, shape, bytes: end - begin };
    });
    return {
      path,
      kind: isDir ? "checkpoint" : "file",
      files,
      metadata: { ...source.metadata },
      ...(isDir ? folderConfig(path) : { config: null }),
      tensors,
      parameters: tensors.reduce((sum, t) => sum + numel(t.shape), 0),
      bytes: tensors.reduce((sum, t) => sum + t.bytes, 0),
    };
  } finally {
    source.close();
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");

function renderConfig(c: ConfigSummary): string {
  const field = (label: string, v: number | string | null) => `${label} ${v ?? "?"}`;
  return [
    c.architecture ?? "unknown architecture",
    field("hidden", c.hiddenSize),
    field("layers", c.numLayers),
    field("heads", c.numHeads),
    field("kv heads", c.numKvHeads),
    field("vocab", c.vocabSize),
    field("rope theta", c.ropeTheta),
    field("dtype", c.dtype),
  ].join(", ");
}

export function renderReport(r: InspectReport): string {
  const lines: string[] = [];
  const what =
    r.kind === "checkpoint"
      ? `checkpoint, ${r.files.length} file${r.files.length === 1 ? "" : "s"}`
      : "safetensors file";
  lines.push(`${r.path} (${what})`);
  if (r.kind === "checkpoint") {
    const config = r.config ? renderConfig(r.config) : (r.configError ?? "no config.json");
    lines.push(`config: ${config}`);
  }
  const meta = Object.entries(r.metadata);
  if (meta.length) lines.push(`metadata: ${meta.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  lines.push(`tensors: ${r.tensors.length}, parameters: ${fmt(r.parameters)}, bytes: ${fmt(r.bytes)}`);
  lines.push("");
  const rows = r.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(", ")}]`, fmt(t.bytes)]);
  const header = ["name", "dtype", "shape", "bytes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  lines.push(line(header));
  for (const row of rows) lines.push(line(row));
  return `${lines.join("\n")}\n`;
}

export const command: Command = {
  name: "inspect",
  summary: "list a checkpoint's or .safetensors file's tensors, parameter count and config",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" } }, true);
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? "missing PATH (a checkpoint folder or .safetensors file)"
          : `expected one PATH, found ${positionals.length}`,
      );
    }
    const report = inspectPath(positionals[0]);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return 0;
  },
};
