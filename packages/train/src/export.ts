/**
 * `rho1 export`: a training checkpoint as the folder `save_pretrained` would write — weights at the chosen dtype
 * without optimizer state, config.json (torch_dtype and dtype), generation_config.json, tokenizer files that
 * transformers 4.x and 5.x both load, and a README.md model card.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CausalLM } from "@rho1/transformer";
import {
  type HfTrainerState,
  RHO1_STATE_FILE,
  type Rho1State,
  readRho1State,
  readTrainerState,
  replaceDir,
  TRAINER_STATE_FILE,
} from "./checkpoint.ts";
import { TrainError } from "./errors.ts";

export type ExportDtype = "bf16" | "f16" | "f32";
const SAVE_DTYPES = { bf16: "BF16", f16: "F16", f32: "F32" } as const;
const TORCH_NAMES = { bf16: "bfloat16", f16: "float16", f32: "float32" } as const;

export interface ExportSummary {
  outDir: string;
  dtype: ExportDtype;
  files: string[];
  /** The held-out loss the card reports (last eval_loss of the run), if the run evaluated. */
  evalLoss: number | null;
}

/** What the card says about the run, from rho1_state.json and trainer_state.json when the folder has them. */
interface RunFacts {
  state: Rho1State | null;
  trainer: HfTrainerState | null;
}

function runFacts(dir: string): RunFacts {
  return {
    state: existsSync(join(dir, RHO1_STATE_FILE)) ? readRho1State(dir) : null,
    trainer: existsSync(join(dir, TRAINER_STATE_FILE)) ? readTrainerState(dir) : null,
  };
}

function lastEvalLoss(trainer: HfTrainerState | null): { loss: number; step: number } | null {
  const entry = trainer?.log_history.filter((e) => typeof e.eval_loss === "number").at(-1);
  return entry ? { loss: entry.eval_loss as number, step: entry.step } : null;
}

/** The README.md model card: YAML front matter as the Hub reads it, then what the run was. */
export function modelCard(name: string, dtype: ExportDtype, facts: RunFacts): string {
  const { state, trainer } = facts;
  const ratio = typeof state?.fingerprint.ratio === "number" ? state.fingerprint.ratio : 1;
  const scope = state?.fingerprint.scope;
  const data = Array.isArray(state?.fingerprint.data) ? (state.fingerprint.data as string[]) : [];
  const base = state ? basename(state.baseModel) : null;
  const evalLoss = lastEvalLoss(trainer);
  const rows: [string, string][] = [];
  if (base) rows.push(["base model", `\`${base}\``]);
  if (data.length) rows.push(["training data", data.map((d) => `\`${d}\``).join(", ")]);
  if (state) {
    rows.push([
      "objective",
      ratio < 1
        ? `Selective Language Modeling: top ${Math.round(ratio * 1000) / 10}% of tokens by excess loss (${scope} scope)`
        : "causal language modeling (every token)",
    ]);
    rows.push(["steps", String(state.step)]);
    rows.push([
      "tokens",
      `${state.tokens} seen${ratio < 1 ? `, ${state.selectedTokens} trained on (selected)` : ""}`,
    ]);
    rows.push(["sequence length", String(state.fingerprint.seqLen)]);
    rows.push(["peak learning rate", String(state.fingerprint.lr)]);
  }
  rows.push([
    "held-out loss",
    evalLoss
      ? `${evalLoss.loss.toFixed(4)} (mean token CE at step ${evalLoss.step})`
      : "not measured (train with --eval-data)",
  ]);
  rows.push(["weights", `${TORCH_NAMES[dtype]} safetensors`]);
  const front = [
    "---",
    "library_name: transformers",
    "pipeline_tag: text-generation",
    "tags:",
    "  - rho1",
    ...(ratio < 1 ? ["  - selective-language-modeling"] : []),
    "---",
  ];
  return `${front.join("\n")}

# ${name}

${
  state
    ? `Continued pretraining of \`${base}\` with [rho1](https://github.com/rho1-dev/rho1)${ratio < 1 ? ", an implementation of Rho-1's Selective Language Modeling (Lin et al., 2024): each batch trains only on the tokens whose loss most exceeds a reference model's" : ""}.`
    : "Exported with [rho1](https://github.com/rho1-dev/rho1)."
}

| | |
| --- | --- |
${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}

## Use

\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("${name}")
model = AutoModelForCausalLM.from_pretrained("${name}")
\`\`\`

Loads with transformers 4.x and 5.x (\`tokenizer_config.json\` lists \`additional_special_tokens\`).
`;
}

/** Exports `checkpointDir` (a rho1 checkpoint or any Hugging Face folder rho1 loads) to `outDir`. */
export async function exportCheckpoint(
  checkpointDir: string,
  outDir: string,
  opts: { dtype?: ExportDtype } = {},
): Promise<ExportSummary> {
  const dtype = opts.dtype ?? "bf16";
  if (!(dtype in SAVE_DTYPES))
    throw new TrainError(`--dtype expects bf16, f16 or f32, found ${JSON.stringify(dtype)}`, "bad_option");
  if (!existsSync(join(checkpointDir, "config.json")))
    throw new TrainError(`${checkpointDir}: not a model folder (no config.json)`, "bad_checkpoint");
  if (resolve(checkpointDir) === resolve(outDir))
    throw new TrainError(`--out ${outDir} is the checkpoint itself; choose another folder`, "bad_option");
  const facts = runFacts(checkpointDir);
  const model = await CausalLM.load(checkpointDir);
  const tmp = `${resolve(outDir)}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await model.save(tmp, { dtype: SAVE_DTYPES[dtype], tokenizerDir: checkpointDir });
  } finally {
    model.dispose();
  }
  writeFileSync(join(tmp, "README.md"), modelCard(basename(resolve(outDir)), dtype, facts));
  mkdirSync(resolve(outDir, ".."), { recursive: true });
  replaceDir(tmp, outDir);
  const evalLoss = lastEvalLoss(facts.trainer)?.loss ?? null;
  return { outDir, dtype, files: readdirSync(outDir).sort(), evalLoss };
}
