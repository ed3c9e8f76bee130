import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { NativeArray } from "./convert.ts";
import { SafetensorsError, show } from "./errors.ts";
import type { TensorInfo } from "./header.ts";
import { SafetensorsFile, type TensorSource } from "./source.ts";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/** A sharded checkpoint: `model.safetensors.index.json` plus the shard files it names, as one TensorSource. */
export class ShardedCheckpoint implements TensorSource {
  readonly indexPath: string;
  readonly names: string[];
  readonly metadata: Record<string, string>;
  /** The index's own "metadata" (total_size, total_parameters, ...), as written. */
  readonly indexMetadata: Record<string, unknown>;
  /** Shard files in order of first appearance in the weight map. */
  readonly shards: SafetensorsFile[];
  private readonly shardOf: Map<string, SafetensorsFile>;

  constructor(indexPath: string) {
    this.indexPath = indexPath;
    const index = readIndex(indexPath);
    this.indexMetadata = index.metadata;
    const dir = dirname(indexPath);
    const opened = new Map<string, SafetensorsFile>();
    this.shardOf = new Map();
    this.names = [];
    for (const [name, file] of index.weightMap) {
      let shard = opened.get(file);
      if (!shard) {
        const path = join(dir, file);
        if (!existsSync(path)) {
          throw new SafetensorsError(
            "missing_shard",
            indexPath,
            `shard ${show(file)} (holding tensor ${show(name)}) does not exist at ${path}`,
            name,
          );
        }
        shard = new SafetensorsFile(path);
        opened.set(file, shard);
      }
      if (!shard.has(name)) {
        throw new SafetensorsError(
          "missing_tensor",
          indexPath,
          `tensor ${show(name)} is listed in the index under shard ${show(file)} but that shard has no such tensor`,
          name,
        );
      }
      this.shardOf.set(name, shard);
      this.names.push(name);
    }
    this.shards = [...opened.values()];
    this.metadata = this.shards[0]?.metadata ?? {};
  }

  private shard(name: string): SafetensorsFile {
    const shard = this.shardOf.get(name);
    if (!shard)
      throw new SafetensorsError(
        "missing_tensor",
        this.indexPath,
        `no tensor named ${show(name)} in the index`,
        name,
      );
    return shard;
  }

  has(name: string): boolean {
    return this.shardOf.has(name);
  }

  info(name: string): TensorInfo {
    return this.shard(name).info(name);
  }

  /** Which shard file holds a tensor. */
  fileOf(name: string): string {
    return this.shard(name).path;
  }

  readBytes(name: string): Uint8Array {
    return this.shard(name).readBytes(name);
  }

  read(name: string): NativeArray {
    return this.shard(name).read(name);
  }

  readFloat32(name: string, out?: Float32Array): Float32Array {
    return this.shard(name).readFloat32(name, out);
  }

  close(): void {
    for (const shard of this.shards) shard.close();
  }
}

interface Index {
  metadata: Record<string, unknown>;
  weightMap: [string, string][];
}

function readIndex(path: string): Index {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SafetensorsError("file_not_found", path, `cannot read index: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError("invalid_index", path, `index is not valid JSON: ${(error as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(json) || !isObject(json.weight_map)) {
    throw new SafetensorsError("invalid_index", path, `index must be an object with a "weight_map" object`);
  }
  const weightMap: [string, string][] = [];
  for (const [name, file] of Object.entries(json.weight_map)) {
    // A shard is a file beside the index: refuse paths that would leave the folder.
    if (typeof file !== "string" || file === "" || basename(file) !== file || file === "." || file === "..") {
      throw new SafetensorsError(
        "invalid_index",
        path,
        `weight_map[${show(name)}] must be a shard file name beside the index, found ${show(file)}`,
        name,
      );
    }
    weightMap.push([name, file]);
  }
  return { metadata: isObject(json.metadata) ? json.metadata : {}, weightMap };
}

/**
 * Opens a Hugging Face checkpoint: a folder with `model.safetensors` (preferred, as transformers does) or
 * `model.safetensors.index.json` + shards; or directly a `.safetensors` file or an `*.index.json` file.
 */
export function openCheckpoint(dirOrFile: string): TensorSource {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dirOrFile);
  } catch {
    throw new SafetensorsError("file_not_found", dirOrFile, "no such file or folder");
  }
  if (stat.isFile()) {
    return dirOrFile.endsWith(".json") ? new ShardedCheckpoint(dirOrFile) : new SafetensorsFile(dirOrFile);
  }
  const single = join(dirOrFile, SINGLE_FILE);
  if (existsSync(single)) return new SafetensorsFile(single);
  const index = join(dirOrFile, INDEX_FILE);
  if (existsSync(index)) return new ShardedCheckpoint(index);
  throw new SafetensorsError(
    "no_checkpoint",
    dirOrFile,
    `folder has neither ${SINGLE_FILE} nor ${INDEX_FILE}`,
  );
}
