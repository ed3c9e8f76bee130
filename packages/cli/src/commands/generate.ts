import { loadTokenizer, type Tokenizer } from "@rho1/tokenizer";
import { CausalLM, type GenerateOptions, setupBackend } from "@rho1/transformer";
import { type Command, DEFAULT_MODEL, numberOption, parseCommandArgs, UsageError } from "../command.ts";

const USAGE = `rho1 generate [--model DIR] (--prompt TEXT | --input-ids JSON) [options]

Continues a prompt with the model (greedy unless --temperature > 0), using a KV cache.

  --model DIR           Hugging Face folder (default: the embedded stories260K, @rho1/model-stories260k)
  --prompt TEXT         text, encoded with the model folder's tokenizer (BOS added as tokenizer_config says)
  --input-ids JSON      token ids instead: [1, 403, 407] or several prompts [[...], [...]] (batched)
  --max-new-tokens N    default 64; a row also stops when prompt + new tokens reach the model's
                        max_position_embeddings (one notice on stderr; a prompt that fills it gets nothing)
  --temperature T       0 = greedy (default); > 0 samples
  --top-p P             nucleus sampling threshold in (0, 1], default 1
  --seed S              sampling seed, default 0
  --stop STR            stop when the new text contains STR (repeatable); STR and what follows are cut
  --json                print {"ids": [new ids], "text": "new text", "finish_reason": ...} per prompt, one line each

Without --json it prints the prompt followed by the generated text.
`;

function parseIds(raw: string): number[][] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new UsageError(
      `--input-ids expects JSON like [1, 2, 3] or [[1, 2], [1, 5, 6]], found ${JSON.stringify(raw)}`,
    );
  }
  const rows =
    Array.isArray(json) && json.length > 0 && json.every(Array.isArray) ? (json as unknown[][]) : [json];
  for (const row of rows) {
    if (
      !Array.isArray(row) ||
      row.length === 0 ||
      !row.every((x) => Number.isInteger(x) && (x as number) >= 0)
    ) {
      throw new UsageError(`--input-ids expects non-empty arrays of token ids, found ${JSON.stringify(raw)}`);
    }
  }
  return rows as number[][];
}

export const command: Command = {
  name: "generate",
  summary: "continue a prompt with a model (greedy or sampled, KV cache)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: "string" },
      prompt: { type: "string" },
      "input-ids": { type: "string" },
      "max-new-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      stop: { type: "string", multiple: true },
      json: { type: "boolean" },
    });
    const hasPrompt = values.prompt !== undefined;
    if (hasPrompt === (values["input-ids"] !== undefined)) {
      throw new UsageError("give exactly one of --prompt TEXT or --input-ids JSON");
    }
    const opts: GenerateOptions = {
      maxNewTokens: numberOption(values, "max-new-tokens", 64, { integer: true, min: 0 }),
      temperature: numberOption(values, "temperature", 0, { min: 0 }),
      topP: numberOption(values, "top-p", 1, { min: Number.MIN_VALUE, max: 1 }),
      seed: numberOption(values, "seed", 0, { integer: true, min: 0, max: 2 ** 32 - 1 }),
    };
    const modelDir = values.model ?? DEFAULT_MODEL;
    const stops = values.stop ?? [];

    let tokenizer: Tokenizer | null = null;
    try {
      tokenizer = await loadTokenizer(modelDir);
    } catch (error) {
      if (hasPrompt || stops.length > 0) throw error;
    }
    const prompts = hasPrompt
      ? [(tokenizer as Tokenizer).encode(values.prompt as string)]
      : parseIds(values["input-ids"] as string);
    const plain = (ids: number[]) => (tokenizer ? tokenizer.decode(ids, { skipSpecialTokens: true }) : "");
    const promptTexts = prompts.map(plain);
    // New text = decode(prompt + new) minus the prompt's text: decoding the new ids alone would drop the leading
    // space of their first word (SentencePiece strips it at the start of a text).
    const decode = (ids: number[], row: number) => {
      const full = plain([...prompts[row], ...ids]);
      return full.startsWith(promptTexts[row]) ? full.slice(promptTexts[row].length) : plain(ids);
    };
    if (stops.length > 0) opts.stop = { strings: stops, decode };

    await setupBackend();
    const model = await CausalLM.load(modelDir);
    let results: Awaited<ReturnType<typeof model.generateAsync>>;
    try {
      results = await model.generateAsync(prompts, opts);
    } finally {
      model.dispose();
    }

    const lines = results.map((r, i) => {
      const text = r.text ?? decode(r.ids, i);
      if (values.json) {
        return JSON.stringify({ ids: r.ids, ...(tokenizer ? { text } : {}), finish_reason: r.finishReason });
      }
      return tokenizer
        ? `${promptTexts[i]}${text}`
        : `${JSON.stringify(prompts[i])} -> ${JSON.stringify(r.ids)}`;
    });
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
