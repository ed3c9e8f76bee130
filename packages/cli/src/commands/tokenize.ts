import { loadTokenizer } from "@rho1/tokenizer";
import { type Command, InputError, mapJsonLines, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `usage: rho1 tokenize --tokenizer DIR [--no-special] < in.jsonl > out.jsonl

Reads JSON lines {"text": "..."} on stdin and writes one line {"ids": [...]} per record on stdout, in the same
order. The ids are exactly those of the tokenizer folder's encode(): BOS/EOS as tokenizer_config.json asks
(add_bos_token / add_eos_token, else tokenizer.json's template) and special-token strings such as "<s>" in the text
read as control tokens, like the Hugging Face tokenizer.

  --tokenizer DIR   a Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json)
  --no-special      do not add BOS/EOS (encode(text, {addSpecialTokens: false}))`;

export const command: Command = {
  name: "tokenize",
  summary: 'JSON lines {"text"} on stdin -> {"ids"} on stdout (exact Hugging Face ids)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      tokenizer: { type: "string" },
      "no-special": { type: "boolean" },
    });
    const dir = requireOption(values, "tokenizer");
    const addSpecialTokens = values["no-special"] !== true;
    const tokenizer = await loadTokenizer(dir);
    await mapJsonLines((value, line) => {
      const text = (value as { text?: unknown } | null)?.text;
      if (value === null || typeof value !== "object" || Array.isArray(value) || typeof text !== "string") {
        throw new InputError(
          `stdin:${line}: expected {"text": string}, found ${JSON.stringify(value).slice(0, 80)}`,
        );
      }
      return { ids: tokenizer.encode(text, { addSpecialTokens }) };
    });
    return 0;
  },
};
