// Id-equality proof on the whole math corpus: for each tokenizer folder, every document's corpus-path ids (one
// thread, and over workers) must equal the plain @huggingface/tokenizers encode(text, {add_special_tokens: false}),
// in both parseSpecial modes; with parseSpecial the ids are also compared to the Rust tokenizers library.
//
//   bun benchmarks/tokenizer/verify.ts [--tokenizer DIR ...]

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { libraryReference, loadTokenizer } from "@rho1/tokenizer";
import { benchArgs } from "../lib/args.ts";
import { loadRust, ROOT, readMathCorpus, SHARED, utf8Bytes } from "./corpus.ts";

const values = benchArgs(
  { tokenizer: { type: "string", multiple: true } },
  {
    usage:
      "Id-equality proof on the whole math corpus: @rho1/tokenizer's corpus-path ids (one thread and over workers) against @huggingface/tokenizers encode() and the Rust tokenizers library.",
    describe: { tokenizer: "tokenizer folder, repeatable (unset: llama2, mistral, stories260K)" },
  },
);
const dirs = values.tokenizer ?? [
  join(SHARED, "data/tokenizers/llama2"),
  join(SHARED, "data/tokenizers/mistral"),
  join(ROOT, "models/stories260K"),
];

const corpus = readMathCorpus();
// The math corpus has no "<s>"-like text; a copy of every 10th document with special-token strings spliced in at
// word boundaries checks that the two parseSpecial modes differ exactly as the library says.
const spliced: string[] = [];
for (let i = 0; i < corpus.length; i += 10) {
  const words = corpus[i].split(" ");
  const at = (k: number) => Math.floor((((i * 7919 + k * 104729) % 1000) / 1000) * words.length);
  words.splice(at(1), 0, "<s>");
  words.splice(at(2), 0, "</s>x");
  words.splice(at(3), 0, "a<unk>");
  spliced.push(words.join(" "));
}
const docs = [...corpus, ...spliced];
console.log(
  `math corpus: ${corpus.length} documents + ${spliced.length} with special-token text spliced in, ${(utf8Bytes(docs) / 1e6).toFixed(2)} MB UTF-8`,
);
const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

let failures = 0;
for (const dir of dirs) {
  const tok = await loadTokenizer(dir);
  const rust = loadRust(join(dir, "tokenizer.json"));
  const rustIds = (await rust.encodeBatch(docs, { addSpecialTokens: false })).map((e) => e.getIds());
  // Only documents that contain a special token's text can differ between the two modes: the (slow) library
  // reference of the others is computed once and serves both modes.
  const added = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")).added_tokens as {
    content: string;
    special?: boolean;
  }[];
  const specials = added.filter((t) => t.special).map((t) => t.content);
  const hasSpecial = docs.map((d) => specials.some((s) => d.includes(s)));
  console.log(
    `${dir}: ${hasSpecial.filter(Boolean).length} documents contain special-token text (${specials.join(" ")})`,
  );
  let shared: number[][] | null = null;
  for (const parseSpecial of [true, false]) {
    const t0 = performance.now();
    const library = libraryReference(dir, parseSpecial);
    const previous = shared;
    const referenceIds: number[][] = docs.map((d, i) =>
      previous !== null && !hasSpecial[i] ? previous[i] : library(d),
    );
    shared = referenceIds;
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
      if (
        !parseSpecial &&
        hasSpecial[i] &&
        specials.some((s) => fast[i].includes(tok.tokenToId(s) as number))
      )
        bad++;
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
