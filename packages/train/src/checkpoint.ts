import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSafetensors, type TensorToWrite, writeSafetensors } from "@rho1/safetensors";
import type { CausalLM } from "@rho1/transformer";
import type { AdamWState } from "./adamw.ts";
import { TrainError } from "./errors.ts";
import { ioError } from "./metrics-log.ts";
import type { SamplerState } from "./sampler.ts";

const STATE_FILE = "trainer_state.json";
const OPTIMIZER_FILE = "optimizer.safetensors";

/** Everything besides weights and moments that a resumed run needs to continue exactly. */
export interface TrainerState {
  format: "rho1-trainer-state";
  version: 1;
  /** Optimizer steps completed. */
  step: number;
  /** Options that must not change across a resume (data order, batch shape, objective, schedule). */
  fingerprint: Record<string, unknown>;
  schedule: { lr: number; minLr: number; warmup: number; total: number };
  /** RNG and data position: the sampler's seed, epoch and index. */
  data: SamplerState;
  tokens: number;
  selectedTokens: number;
}

export const checkpointName = (step: number) => `checkpoint-${String(step).padStart(6, "0")}`;

/**
 * Writes `<outDir>/checkpoint-<step>`: the model as a Hugging Face folder (float32 master weights, tokenizer files),
 * the AdamW moments (optimizer.safetensors: m.<name>, v.<name>, metadata step) and trainer_state.json. Everything is
 * written into a temporary folder that is renamed into place last, so a crash never leaves a half checkpoint.
 */
export async function saveCheckpoint(
  outDir: string,
  model: CausalLM,
  optimizer: AdamWState,
  state: TrainerState,
  tokenizerDir?: string,
): Promise<string> {
  const final = join(outDir, checkpointName(state.step));
  const tmp = join(outDir, `.tmp-${checkpointName(state.step)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    await writeCheckpointFiles(tmp, model, optimizer, state, tokenizerDir);
  } catch (error) {
    // This process made the temp folder, so it removes it: a full disk is not left fuller by a failed save.
    rmSync(tmp, { recursive: true, force: true });
    if (!/^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException).code))) throw error;
    throw ioError(tmp, error, `cannot write ${checkpointName(state.step)}`);
  }
  if (existsSync(final)) {
    // Replacing a checkpoint of the same step (a re-run): move the old one aside first, drop it after.
    const old = `${final}.old-${process.pid}`;
    renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmp, final);
  return final;
}

async function writeCheckpointFiles(
  tmp: string,
  model: CausalLM,
  optimizer: AdamWState,
  state: TrainerState,
  tokenizerDir?: string,
): Promise<void> {
  await model.save(tmp, { dtype: "F32", tokenizerDir });
  const tensors = new Map<string, TensorToWrite>();
  for (const [kind, moments] of [
    ["m", optimizer.m],
    ["v", optimizer.v],
  ] as const) {
    for (const [name, data] of moments) {
      const shape = model.variables.get(name)?.shape ?? [data.length];
      tensors.set(`${kind}.${name}`, { dtype: "F32", shape, data });
    }
  }
  await writeSafetensors(join(tmp, OPTIMIZER_FILE), tensors, { step: String(optimizer.step) });
  writeFileSync(join(tmp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** The complete checkpoint with the highest step under `outDir`, or null. */
export function latestCheckpoint(outDir: string): string | null {
  if (!existsSync(outDir)) return null;
  const steps = readdirSync(outDir)
    .map((name) => /^checkpoint-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(outDir, m[0], STATE_FILE)))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length ? join(outDir, checkpointName(steps[0] as number)) : null;
}

export function readCheckpointState(dir: string): { state: TrainerState; optimizer: AdamWState } {
  const statePath = join(dir, STATE_FILE);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(statePath, "utf8")) as TrainerState;
  } catch (error) {
    throw new TrainError(
      `${statePath}: cannot read trainer state (${(error as Error).message})`,
      "bad_checkpoint",
    );
  }
  if (state.format !== "rho1-trainer-state" || state.version !== 1) {
    throw new TrainError(
      `${statePath}: format ${state.format} v${state.version}, expected rho1-trainer-state v1`,
      "bad_checkpoint",
    );
  }
  const file = openSafetensors(join(dir, OPTIMIZER_FILE));
  try {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const name of file.names) {
      const target = name.startsWith("m.") ? m : name.startsWith("v.") ? v : null;
      if (target) target.set(name.slice(2), Float32Array.from(file.readFloat32(name)));
    }
    const step = Number(file.metadata.step ?? state.step);
    return { state, optimizer: { step, m, v } };
  } finally {
    file.close();
  }
}
