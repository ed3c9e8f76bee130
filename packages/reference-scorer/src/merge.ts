/**
 * mergeScores: joins the stores of `--shard i/n` runs into one store equal, byte for byte, to what a single
 * process would have written. Unit files are hard-linked (copied across file systems) and re-verified
 * against the shard manifests' checksums; the manifest is rebuilt by the same code as a single run's.
 */
import { existsSync } from "node:fs";
import { copyFile, link, mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { lockOutput, writeFileAtomic } from "@rho1/io";
import { emptyInput, ScoreError } from "./errors.ts";
import {
  buildManifest,
  manifestJson,
  readManifest,
  type ScoreManifest,
  specDifference,
  specOf,
  unitFileName,
} from "./manifest.ts";

export async function mergeScores(dirs: string[], outDir?: string): Promise<ScoreManifest> {
  if (dirs.length === 0) throw new ScoreError("bad_option", "merge needs at least one store");
  const out = outDir ?? dirs[0];
  const lock = lockOutput(out, "rho1 score merge");
  try {
    return await mergeLocked(dirs, out);
  } finally {
    lock.release();
  }
}

async function mergeLocked(dirs: string[], out: string): Promise<ScoreManifest> {
  const manifests = dirs.map(readManifest);
  const spec = specOf(manifests[0]);
  manifests.forEach((m, i) => {
    const diff = specDifference(specOf(m), spec);
    if (diff)
      throw new ScoreError("store_mismatch", `cannot merge with ${dirs[0]}: ${diff}`, { file: dirs[i] });
  });
  // Which directory holds each (file, unit); every unit of every source must be present exactly once.
  const owner = new Map<string, { dir: string; sha: string }>();
  manifests.forEach((m, i) => {
    for (const u of m.units) {
      const key = `${u.file}/${u.index}`;
      const prior = owner.get(key);
      if (prior && prior.sha !== u.sha256) {
        throw new ScoreError("store_mismatch", `unit ${u.path} differs from the one in ${prior.dir}`, {
          file: dirs[i],
        });
      }
      if (!prior) owner.set(key, { dir: dirs[i], sha: u.sha256 });
    }
  });
  const order: { file: number; index: number; expectedSha: string }[] = [];
  const missing: string[] = [];
  spec.sources.forEach((source, file) => {
    source.units.forEach((_, index) => {
      const found = owner.get(`${file}/${index}`);
      if (found) order.push({ file, index, expectedSha: found.sha });
      else missing.push(`${source.path} unit ${index}`);
    });
  });
  if (missing.length > 0) {
    const shards = manifests.map((m) => (m.shard ? `${m.shard.index}/${m.shard.count}` : "all")).join(", ");
    throw new ScoreError(
      "incomplete",
      `${missing.length} units missing (have shards ${shards}); first: ${missing.slice(0, 3).join("; ")}`,
    );
  }
  // Never overwrite a different finished store (re-running the same merge is fine).
  if (!dirs.some((d) => resolve(d) === resolve(out)) && existsSync(join(out, "manifest.json"))) {
    const diff = specDifference(specOf(readManifest(out)), spec);
    if (diff)
      throw new ScoreError("store_mismatch", `--out holds another finished store (${diff})`, { file: out });
  }
  await mkdir(join(out, "units"), { recursive: true });
  for (const { file, index } of order) {
    const name = unitFileName(file, index);
    const from = resolve(join(owner.get(`${file}/${index}`)?.dir as string, name));
    const to = resolve(join(out, name));
    if (from === to) continue;
    await rm(to, { force: true });
    await link(from, to).catch(() => copyFile(from, to));
  }
  const manifest = await buildManifest(out, spec, order, null);
  if (manifest.counts.documents === 0) throw emptyInput(spec.sources);
  writeFileAtomic(join(out, "manifest.json"), manifestJson(manifest));
  return manifest;
}
