// Id-equality proof on the whole math corpus: for each tokenizer folder, every document's corpus-path ids (one
// thread, and over workers) must equal the plain @huggingface/tokenizers encode(text, {add_special_tokens: false}),
// in both parseSpecial modes; with parseSpecial the ids are also compared to the Rust tokenizers library.
//
//   bun benchmarks/tokenizer/verify.ts [--tokenizer DIR ...]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadTokenizer } from "../../packages/tokenizer/src/index.ts";
import { libraryReference } from "../../packages/tokenizer/src/reference.ts";
import type { HfFolderTokenizer } from "../../packages/tokenizer/src/tokenizer.ts";
import { loadRust, ROOT, readMathCorpus, SHARED, utf8Bytes } from "./corpus.ts";

const { values } = parseArgs({ options: { tokenizer: { type: "string", multiple: true } } });
const dirs = values.tokenizer ?? [
  join(SHARED, "data/tokenizers/llama2"),
  join(SHARED, "data/tokenizers/mistral"),
  join(ROOT, "models/stories260K"),
];

const docs = readMathCorpus();
console.log(`math corpus: ${docs.length} documents, ${(utf8Bytes(docs) / 1e6).toFixed(2)} MB UTF-8`);
const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

let failures = 0;
for (const dir of dirs) {
  const tok = (await loadTokenizer(dir)) as HfFolderTokenizer;
  const rust = loadRust(join(dir, "tokenizer.json"));
  const rustIds = (await rust.encodeBatch(docs, { addSpecialTokens: false })).map((e) => e.getIds());
  // Documents that contain a special token's text are the only ones where the two modes can differ; when there are
  // none, the (slow) library reference is computed once and serves both modes.
  const specials = tok.library.added_tokens.filter((t) => t.special).map((t) => t.content);
  const withSpecial = docs.filter((d) => specials.some((s) => d.includes(s))).length;
  console.log(`${dir}: ${withSpecial} documents contain special-token text (${specials.join(" ")})`);
  let cached: number[][] | null = null;
  for (const parseSpecial of [true, false]) {
    const t0 = performance.now();
    const library = libraryReference(dir, parseSpecial);
    if (withSpecial > 0) cached = null;
    const referenceIds: number[][] = cached ?? docs.map((d) => library(d));
    cached = referenceIds;
    const reference = (_: string, i: number) => referenceIds[i];
    const fast = tok.encodeCorpus(docs, { parseSpecial });
    const parallel = await tok.encodeCorpusParallel(docs, { parseSpecial, workers: 2 });
    let bad = 0;
    let badRust = 0;
    let tokens = 0;
    for (let i = 0; i < docs.length; i++) {
      const want = reference(docs[i], i);
      tokens += want.length;
      if (!same(fast[i], want) || !same(parallel[i], want)) {
        bad++;
        if (bad <= 3) console.log(`  MISMATCH doc ${i}: ${JSON.stringify(docs[i].slice(0, 80))}`);
      }
      if (parseSpecial && !same(fast[i], rustIds[i])) badRust++;
    }
    failures += bad + badRust;
    const rustNote = parseSpecial ? `, ${badRust} differ from Rust` : "";
    console.log(
      `${dir} parseSpecial=${parseSpecial}: ${docs.length - bad}/${docs.length} documents identical (${tokens} tokens)${rustNote} [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
    );
  }
}
console.log(failures === 0 ? "ALL IDENTICAL" : `${failures} MISMATCHES`);
process.exit(failures === 0 ? 0 : 1);
