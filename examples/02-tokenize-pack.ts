/** Write an OpenWebMath-schema parquet file, then tokenize and pack it into training rows of 128 tokens. */
import { readTextDocuments } from "@rho1/reference-scorer";
import { loadTokenizer } from "@rho1/tokenizer";
import { packText } from "@rho1/train";
import { BASE_MODEL, CORPUS, ensureCorpus, SEQ_LEN } from "./lib/example-inputs.ts";

await ensureCorpus(); // runs/examples/corpus/train.parquet: clean GSM8K text inside web junk
const tokenizer = await loadTokenizer(BASE_MODEL);

// Tokenize: the corpus path (encodeCorpus) gives the same ids as encode(text, {addSpecialTokens: false}).
let docs = 0;
let tokens = 0;
for await (const doc of readTextDocuments(CORPUS)) {
  if (doc.text === null) continue; // a null cell
  const [ids] = tokenizer.encodeCorpus([doc.text]);
  if (docs === 0)
    console.log(`first document: ${doc.text.length} chars → ${ids.length} tokens:`, ids.slice(0, 12));
  docs++;
  tokens += ids.length;
}
console.log(`${docs} documents, ${tokens} tokens (${(tokens / docs).toFixed(0)} per document)`);

// Pack: [BOS] doc [EOS] [BOS] doc [EOS] ... cut into rows; the last row is padded and its padding is not a target.
const packed = await packText([CORPUS], tokenizer, SEQ_LEN);
const first = packed.sequence(0);
console.log(`${packed.numSequences} rows of ${packed.seqLen} tokens; row 0 starts:`);
console.log(JSON.stringify(tokenizer.decode(Array.from(first.ids.subarray(0, 40)))));
const last = packed.sequence(packed.numSequences - 1);
console.log(`last row: ${last.valid.reduce((s, v) => s + v, 0)} of ${SEQ_LEN - 1} targets are real tokens`);
