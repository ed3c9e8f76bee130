// Tokenizer throughput on the math corpus: @rho1/tokenizer's corpus path (one thread and all cores) against the Rust
// tokenizers library (@anush008/tokenizers, one rayon thread and all cores) on the same text in the same run, plus
// the plain @huggingface/tokenizers encode() on a slice. Ids are checked equal to Rust's on every document.
//
//   bun benchmarks/tokenizer/run.ts [--tokenizer DIR] [--mb N]
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { libraryReference, loadTokenizer } from "@rho1/tokenizer";
import { benchArgs } from "../lib/args.ts";
import { loadRust, readMathCorpus, SHARED, utf8Bytes } from "./corpus.ts";

const values = benchArgs(
  {
    tokenizer: { type: "string", default: join(SHARED, "data/tokenizers/llama2") },
    mb: { type: "string" },
    "rust-child": { type: "boolean" },
  },
  {
    usage:
      "Tokenizer throughput (MB/s, one thread and all cores) of @rho1/tokenizer's corpus path on the math corpus; anchor: the Rust tokenizers library on the same text, same run (ids checked equal).",
    describe: {
      tokenizer: "tokenizer folder",
      mb: "use only the first N MB of the corpus (unset: all)",
      "rust-child": "internal: run the Rust side in this process",
    },
  },
);
const dir = values.tokenizer as string;

let docs = readMathCorpus();
if (values.mb !== undefined) {
  const limit = Number(values.mb) * 1e6;
  let bytes = 0;
  docs = docs.filter((d) => {
    bytes += Buffer.byteLength(d);
    return bytes <= limit;
  });
}
const mb = utf8Bytes(docs) / 1e6;

/** Rust ids and time, in a child process so that RAYON_NUM_THREADS applies to a fresh rayon pool. */
async function rustChild(): Promise<void> {
  const rust = loadRust(join(dir, "tokenizer.json"));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const encodings = await rust.encodeBatch(docs, { addSpecialTokens: false });
  const ids = encodings.map((e) => e.getIds());
  const cpu = process.cpuUsage(c0);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const flat = ids.flat();
  await Bun.write(
    Bun.stdout,
    JSON.stringify({ seconds, cpuSeconds, lengths: ids.map((x) => x.length), ids: flat }),
  );
}

async function rust(
  threads: number | null,
): Promise<{ seconds: number; cpuSeconds: number; ids: number[][] }> {
  const env = { ...process.env } as Record<string, string>;
  if (threads !== null) env.RAYON_NUM_THREADS = String(threads);
  const args = ["bun", import.meta.path, "--rust-child", "--tokenizer", dir];
  if (values.mb !== undefined) args.push("--mb", values.mb);
  const proc = Bun.spawn(args, { env, stdout: "pipe", stderr: "inherit" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("Rust child failed");
  const { seconds, cpuSeconds, lengths, ids } = JSON.parse(text) as {
    seconds: number;
    cpuSeconds: number;
    lengths: number[];
    ids: number[];
  };
  const out: number[][] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(ids.slice(at, at + n));
    at += n;
  }
  return { seconds, cpuSeconds, ids: out };
}

function mismatches(a: number[][], b: number[][]): number {
  let bad = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length !== y.length || x.some((v, k) => v !== y[k])) bad++;
  }
  return bad;
}

if (values["rust-child"]) {
  await rustChild();
  process.exit(0);
}

const cores = availableParallelism();
const rate = (seconds: number, megabytes = mb) => `${(megabytes / seconds).toFixed(2).padStart(7)} MB/s`;
console.log(`tokenizer ${dir}`);
console.log(`math corpus: ${docs.length} documents, ${mb.toFixed(2)} MB UTF-8; ${cores} cores\n`);

// Ours, one thread, fresh tokenizer (cold word cache), then the same text again (warm cache).
let t0 = performance.now();
const tok = await loadTokenizer(dir);
const loadSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
const c0 = process.cpuUsage();
const ours = tok.encodeCorpus(docs, { parseSpecial: true });
const oursCpu = process.cpuUsage(c0);
const oursSeconds = (performance.now() - t0) / 1000;
const oursCpuSeconds = (oursCpu.user + oursCpu.system) / 1e6;
t0 = performance.now();
tok.encodeCorpus(docs, { parseSpecial: true });
const oursWarmSeconds = (performance.now() - t0) / 1000;

// Ours, all cores: a fresh tokenizer, so worker start-up and their tokenizer loading are included.
const tokParallel = await loadTokenizer(dir);
t0 = performance.now();
const oursParallel = await tokParallel.encodeCorpusParallel(docs, { parseSpecial: true, workers: cores });
const oursParallelSeconds = (performance.now() - t0) / 1000;
// The same pool again: workers started and their caches warm (what a long scoring run sees after its first batch).
t0 = performance.now();
await tokParallel.encodeCorpusParallel(docs, { parseSpecial: true, workers: cores });
const oursParallelWarmSeconds = (performance.now() - t0) / 1000;

const rust1 = await rust(1);
const rustAll = await rust(null);

// The plain JavaScript library on a ~1 MB slice (it is too slow for the whole corpus in a benchmark).
const slice: string[] = [];
for (let bytes = 0, i = 0; bytes < 1e6 && i < docs.length; i++) {
  slice.push(docs[i]);
  bytes += Buffer.byteLength(docs[i]);
}
const reference = libraryReference(dir, true);
t0 = performance.now();
const libIds = slice.map(reference);
const libSeconds = (performance.now() - t0) / 1000;

console.log(`tokenizer load                            ${loadSeconds.toFixed(3)} s`);
console.log(`@huggingface/tokenizers encode (1 MB)     ${rate(libSeconds, utf8Bytes(slice) / 1e6)}`);
console.log(
  `@rho1/tokenizer 1 thread (cold cache)     ${rate(oursSeconds)}   (per CPU second ${rate(oursCpuSeconds)})`,
);
console.log(`@rho1/tokenizer 1 thread (warm cache)     ${rate(oursWarmSeconds)}`);
console.log(`@rho1/tokenizer ${cores} workers (incl. start)   ${rate(oursParallelSeconds)}`);
console.log(`@rho1/tokenizer ${cores} workers (warm pool)     ${rate(oursParallelWarmSeconds)}`);
console.log(
  `Rust tokenizers 1 thread                  ${rate(rust1.seconds)}   (per CPU second ${rate(rust1.cpuSeconds)})`,
);
console.log(`Rust tokenizers ${cores} threads                 ${rate(rustAll.seconds)}`);
console.log(
  `\ndocuments whose ids differ: ours vs Rust ${mismatches(ours, rust1.ids)}, ours ${cores} workers vs Rust ${mismatches(oursParallel, rustAll.ids)}, library slice vs ours ${mismatches(libIds, ours.slice(0, slice.length))}`,
);
console.log(
  `ratio ours/Rust: 1 thread ${(rust1.seconds / oursSeconds).toFixed(2)}x (per CPU second ${(rust1.cpuSeconds / oursCpuSeconds).toFixed(2)}x), all cores ${(rustAll.seconds / oursParallelSeconds).toFixed(2)}x`,
);
