import { readFileSync } from "node:fs";
import { writeSafetensors } from "@rho1/safetensors";
import { CausalLM, setupBackend, tf } from "@rho1/transformer";
import { type Command, InputError, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `rho1 logits --model DIR --input FILE.json --out FILE.safetensors

Runs the model on token ids and writes its logits and per-token losses.

  --model DIR     Hugging Face folder (config.json + safetensors)
  --input FILE    JSON token ids, rows of equal length, in either form:
                    [[1, 403, 407], [1, 261, 378]]
                    {"input_ids": [[...], ...], "attention_mask": [[...], ...]}  (mask optional: 1 = token,
                    0 = padding), as a transformers tokenizer's output
  --out FILE      safetensors with logits F32 [B, T, V] and token_loss F32 [B, T-1]
                  (token_loss[b, t] = CE(logits[b, t], input_ids[b, t+1]), 0 where either token is padding)
`;

/**
 * Validates a bare [[ids]] or {"input_ids", "attention_mask"?}: rectangular integer rows, ids inside the vocabulary,
 * mask 0/1. A file that breaks these is bad input (InputError, exit 1).
 */
export function parseLogitsInput(
  json: unknown,
  file: string,
  vocabSize: number,
): { ids: number[][]; mask: number[][] | null } {
  const obj = (Array.isArray(json) ? { input_ids: json } : json) as Record<string, unknown>;
  if (obj === null || typeof obj !== "object") {
    throw new InputError(`${file}: expected [[ids], ...] or a JSON object with "input_ids"`);
  }
  const matrix = (field: string, check: (x: number) => boolean, what: string): number[][] => {
    const rows = obj[field];
    if (!Array.isArray(rows) || rows.length === 0 || !rows.every(Array.isArray)) {
      throw new InputError(`${file}: "${field}" must be a non-empty array of rows`);
    }
    const width = (rows[0] as unknown[]).length;
    if (width === 0) throw new InputError(`${file}: "${field}" rows are empty`);
    rows.forEach((row: unknown[], r) => {
      if (row.length !== width) {
        throw new InputError(`${file}: "${field}" row ${r} has ${row.length} entries, row 0 has ${width}`);
      }
      row.forEach((x, c) => {
        if (typeof x !== "number" || !check(x)) {
          throw new InputError(`${file}: "${field}"[${r}][${c}] must be ${what}, found ${JSON.stringify(x)}`);
        }
      });
    });
    return rows as number[][];
  };
  const ids = matrix(
    "input_ids",
    (x) => Number.isInteger(x) && x >= 0 && x < vocabSize,
    `a token id in [0, ${vocabSize})`,
  );
  if (obj.attention_mask === undefined || obj.attention_mask === null) return { ids, mask: null };
  const mask = matrix("attention_mask", (x) => x === 0 || x === 1, "0 or 1");
  if (mask.length !== ids.length || mask[0].length !== ids[0].length) {
    throw new InputError(
      `${file}: "attention_mask" is [${mask.length}, ${mask[0].length}] but "input_ids" is [${ids.length}, ${ids[0].length}]`,
    );
  }
  return { ids, mask };
}

export const command: Command = {
  name: "logits",
  summary: "write a model's logits and per-token losses for token ids (safetensors)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: "string" },
      input: { type: "string" },
      out: { type: "string" },
    });
    const modelDir = requireOption(values, "model");
    const inputFile = requireOption(values, "input");
    const out = requireOption(values, "out");
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(inputFile, "utf8"));
    } catch (error) {
      throw new InputError(`${inputFile}: ${(error as Error).message.split("\n")[0]}`);
    }
    await setupBackend();
    const model = await CausalLM.load(modelDir);
    const { ids, mask } = parseLogitsInput(json, inputFile, model.config.vocabSize);
    const [b, t, v] = [ids.length, ids[0].length, model.config.vocabSize];
    const idsT = tf.tensor2d(ids, [b, t], "int32");
    const maskT = mask ? tf.tensor2d(mask, [b, t], "float32") : undefined;
    const logits = model.logits(idsT, maskT);
    let loss: Float32Array = new Float32Array(0);
    if (t >= 2) {
      const { ce, valid } = model.tokenLosses(idsT, maskT);
      loss = (await ce.data()) as Float32Array;
      tf.dispose([ce, valid]);
    }
    await writeSafetensors(out, {
      logits: { dtype: "F32", shape: [b, t, v], data: (await logits.data()) as Float32Array },
      token_loss: { dtype: "F32", shape: [b, Math.max(0, t - 1)], data: loss },
    });
    process.stderr.write(
      `rho1 logits: wrote ${out} (logits [${b}, ${t}, ${v}], token_loss [${b}, ${Math.max(0, t - 1)}])\n`,
    );
    tf.dispose([idsT, maskT, logits]);
    model.dispose();
    return 0;
  },
};
