import { existsSync } from "node:fs";
import { type ExportDtype, exportCheckpoint } from "@rho1/train";
import { setupBackend } from "@rho1/transformer";
import { type Command, InputError, parseCommandArgs, requireOption, UsageError } from "../command.ts";

const USAGE = `rho1 export CHECKPOINT --out DIR [--dtype bf16|f16|f32]

Writes a training checkpoint as the folder transformers' save_pretrained would: model.safetensors at --dtype
(no optimizer state), config.json (torch_dtype and dtype both set), generation_config.json (bos/eos/pad from the
tokenizer), tokenizer.json, tokenizer_config.json and special_tokens_map.json in the form transformers 4.x and 5.x
both load, and a README.md model card (base model, data, SLM ratio, steps, tokens, held-out loss).

  CHECKPOINT      a checkpoint folder of rho1 train (checkpoint-N, final) or any Hugging Face folder
  --out DIR       the exported folder (replaced if it exists)
  --dtype D       bf16 (default) | f16 | f32
`;

export const command: Command = {
  name: "export",
  summary: "export a checkpoint as a Hugging Face folder (bf16/f16/f32, tokenizer, model card)",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { out: { type: "string" }, dtype: { type: "string" } },
      true,
      { "output-dir": "out" },
    );
    if (positionals.length !== 1)
      throw new UsageError(`expects one CHECKPOINT folder, found ${positionals.length} (rho1 export --help)`);
    const checkpoint = positionals[0] as string;
    const out = requireOption(values, "out");
    const dtype = (values.dtype ?? "bf16").toLowerCase();
    if (dtype !== "bf16" && dtype !== "f16" && dtype !== "f32")
      throw new UsageError(`--dtype expects bf16, f16 or f32, found ${JSON.stringify(values.dtype)}`);
    if (!existsSync(checkpoint)) throw new InputError(`${checkpoint}: no such checkpoint folder`);
    await setupBackend();
    const summary = await exportCheckpoint(checkpoint, out, { dtype: dtype as ExportDtype });
    process.stderr.write(
      `rho1 export: ${checkpoint} -> ${summary.outDir} (${dtype}): ${summary.files.join(", ")}\n`,
    );
    return 0;
  },
};
