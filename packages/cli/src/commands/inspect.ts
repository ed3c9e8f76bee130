import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  numel,
  openCheckpoint,
  SafetensorsFile,
  ShardedCheckpoint,
  type TensorSource,
} from "@rho1/safetensors";
import { ConfigError } from "@rho1/transformer";
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
  tensors: { name: string; dtype: string; shape: number[]; bytes: number }[];
  parameters: number;
  bytes: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function summarizeConfig(json: unknown, file: string): ConfigSummary {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError(`${file}: config must be a JSON object`, file);
  }
  const c = json as Record<string, unknown>;
  const rope =
    typeof c.rope_parameters === "object" && c.rope_parameters !== null
      ? (c.rope_parameters as Record<string, unknown>)
      : {};
  const architectures = Array.isArray(c.architectures) ? c.architectures : [];
  const numHeads = num(c.num_attention_heads);
  return {
    architecture: str(architectures[0]) ?? str(c.model_type),
    hiddenSize: num(c.hidden_size),
    numLayers: num(c.num_hidden_layers),
    numHeads,
    // transformers defaults num_key_value_heads to num_attention_heads (plain multi-head attention).
    numKvHeads: num(c.num_key_value_heads) ?? numHeads,
    vocabSize: num(c.vocab_size),
    ropeTheta: num(c.rope_theta) ?? num(rope.rope_theta),
    dtype: str(c.torch_dtype) ?? str(c.dtype),
  };
}

function readConfig(dir: string): ConfigSummary | null {
  const file = join(dir, "config.json");
  if (!existsSync(file)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`, file);
  }
  return summarizeConfig(json, file);
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
      config: isDir ? readConfig(path) : null,
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
  if (r.kind === "checkpoint") lines.push(`config: ${r.config ? renderConfig(r.config) : "no config.json"}`);
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
