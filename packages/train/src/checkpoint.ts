import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { ioError, syncFolder, writeFileAtomic } from "@rho1/io";
import { openSafetensors, type TensorToWrite, writeSafetensors } from "@rho1/safetensors";
import type { CausalLM } from "@rho1/transformer";
import type { AdamWState } from "./adamw.ts";
import { TrainError } from "./errors.ts";
import type { SamplerState } from "./sampler.ts";

/** transformers Trainer's state file: read by tools that know Trainer (schema of `TrainerState` in trainer_callback.py). */
export const TRAINER_STATE_FILE = "trainer_state.json";
/** rho1's own resume data: what a resumed run needs to continue to the same bytes. */
export const RHO1_STATE_FILE = "rho1_state.json";
const OPTIMIZER_FILE = "optimizer.safetensors";

/** Everything besides weights and moments that a resumed run needs to continue exactly. */
export interface Rho1State {
  format: "rho1-train-state";
  version: 2;
  /** Optimizer steps completed. */
  step: number;
  /** Options that must not change across a resume (data order, batch shape, objective, optimizer). */
  fingerprint: Record<string, unknown>;
  /** The schedule this checkpoint was trained under (total grows when a resumed run extends --steps). */
  schedule: { lr: number; minLr: number; warmup: number; total: number };
  /** RNG and data position: the sampler's seed, epoch and index. */
  data: SamplerState;
  tokens: number;
  selectedTokens: number;
  /** The folder training started from. */
  baseModel: string;
}

/** One entry of Trainer's log_history: a training log (loss, learning_rate, grad_norm) or an evaluation (eval_*). */
export type LogEntry = { step: number; epoch: number } & Record<string, number | null>;

/** transformers' `TrainerState` as `save_to_json` writes it (field names and meanings kept). */
export interface HfTrainerState {
  best_global_step: number | null;
  best_metric: number | null;
  best_model_checkpoint: string | null;
  epoch: number;
  eval_steps: number | null;
  global_step: number;
  is_hyper_param_search: false;
  is_local_process_zero: true;
  is_world_process_zero: true;
  log_history: LogEntry[];
  logging_steps: number;
  max_steps: number;
  num_input_tokens_seen: number;
  num_train_epochs: number;
  save_steps: number | null;
  stateful_callbacks: Record<string, unknown>;
  total_flos: number;
  train_batch_size: number;
  trial_name: null;
  trial_params: null;
}

/** Trainer's folder name (`PREFIX_CHECKPOINT_DIR-global_step`, no padding). */
export const checkpointName = (step: number) => `checkpoint-${step}`;

/**
 * Writes `<outDir>/checkpoint-<step>`: the model as a Hugging Face folder (float32 master weights, tokenizer files),
 * the AdamW moments (optimizer.safetensors: m.<name>, v.<name>, metadata step), trainer_state.json (Trainer's schema)
 * and rho1_state.json. Everything is written into a temporary folder that is renamed into place last, so a crash
 * never leaves a half checkpoint.
 */
export async function saveCheckpoint(
  outDir: string,
  model: CausalLM,
  optimizer: AdamWState,
  state: Rho1State,
  trainerState: HfTrainerState,
  tokenizerDir?: string,
): Promise<string> {
  const final = join(outDir, checkpointName(state.step));
  const tmp = join(outDir, `.tmp-${checkpointName(state.step)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    await writeCheckpointFiles(tmp, model, optimizer, state, trainerState, tokenizerDir);
  } catch (error) {
    // This process made the temp folder, so it removes it: a full disk is not left fuller by a failed save.
    rmSync(tmp, { recursive: true, force: true });
    if (!/^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException).code))) throw error;
    throw ioError(tmp, error, `cannot write ${checkpointName(state.step)}`);
  }
  // Every file in tmp was fsynced and tmp itself synced (writeFileAtomic syncs each file's folder). Replacing a
  // checkpoint of the same step (a re-run) moves the old one aside first and drops it after; then the output
  // folder is synced so that the published name survives a power cut too.
  replaceDir(tmp, final);
  syncFolder(outDir);
  return final;
}

async function writeCheckpointFiles(
  tmp: string,
  model: CausalLM,
  optimizer: AdamWState,
  state: Rho1State,
  trainerState: HfTrainerState,
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
  writeFileAtomic(join(tmp, RHO1_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  writeFileAtomic(join(tmp, TRAINER_STATE_FILE), `${JSON.stringify(trainerState, null, 2)}\n`);
}

/** Renames `tmp` to `final`, moving an existing `final` aside first and dropping it after. */
export function replaceDir(tmp: string, final: string): void {
  if (existsSync(final)) {
    const old = `${final}.old-${process.pid}`;
    rmSync(old, { recursive: true, force: true });
    renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmp, final);
}

/** The complete checkpoints under `outDir` (those with rho1_state.json), by step, oldest first. */
export function listCheckpoints(outDir: string): { step: number; dir: string }[] {
  if (!existsSync(outDir)) return [];
  return readdirSync(outDir)
    .map((name) => /^checkpoint-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(outDir, m[0], RHO1_STATE_FILE)))
    .map((m) => ({ step: Number(m[1]), dir: join(outDir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/** The complete checkpoint with the highest step under `outDir`, or null. */
export function latestCheckpoint(outDir: string): string | null {
  return listCheckpoints(outDir).at(-1)?.dir ?? null;
}

/**
 * Trainer's `save_total_limit`: deletes the oldest checkpoints until `limit` remain, never `keep` (the best one).
 * Returns the folders deleted.
 */
export function rotateCheckpoints(outDir: string, limit: number, keep: string | null): string[] {
  const all = listCheckpoints(outDir);
  const deletable = all.filter((c) => keep === null || basename(c.dir) !== basename(keep));
  const removed: string[] = [];
  let count = all.length;
  for (const c of deletable) {
    if (count <= limit) break;
    // The newest checkpoint always stays (it is what --resume continues from).
    if (c === all.at(-1)) break;
    rmSync(c.dir, { recursive: true, force: true });
    removed.push(c.dir);
    count--;
  }
  return removed;
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    throw new TrainError(`${path}: cannot read ${what} (${(error as Error).message})`, "bad_checkpoint");
  }
}

/** Trainer's state of a checkpoint (trainer_state.json). */
export function readTrainerState(dir: string): HfTrainerState {
  return readJson<HfTrainerState>(join(dir, TRAINER_STATE_FILE), "trainer state");
}

/** rho1's resume data of a checkpoint, validated. */
export function readRho1State(dir: string): Rho1State {
  const path = join(dir, RHO1_STATE_FILE);
  if (!existsSync(path)) {
    throw new TrainError(
      `${dir}: not a rho1 training checkpoint (no ${RHO1_STATE_FILE}; checkpoints are written by rho1 train)`,
      "bad_checkpoint",
    );
  }
  const state = readJson<Rho1State>(path, "rho1 state");
  if (state.format !== "rho1-train-state" || state.version !== 2) {
    throw new TrainError(
      `${path}: format ${state.format} v${state.version}, expected rho1-train-state v2`,
      "bad_checkpoint",
    );
  }
  return state;
}

export function readCheckpointState(dir: string): {
  state: Rho1State;
  trainerState: HfTrainerState;
  optimizer: AdamWState;
} {
  const state = readRho1State(dir);
  const trainerState = readTrainerState(dir);
  const file = openSafetensors(join(dir, OPTIMIZER_FILE));
  try {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const name of file.names) {
      const target = name.startsWith("m.") ? m : name.startsWith("v.") ? v : null;
      if (target) target.set(name.slice(2), Float32Array.from(file.readFloat32(name)));
    }
    const step = Number(file.metadata.step ?? state.step);
    return { state, trainerState, optimizer: { step, m, v } };
  } finally {
    file.close();
  }
}
