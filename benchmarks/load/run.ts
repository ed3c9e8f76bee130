/**
 * Loading a checkpoint of TinyLlama-1.1B's exact shape (22 layers, hidden 2048, 32 heads, 4 KV heads, FFN 5632,
 * vocab 32000, untied; random BF16 weights, sharded, written with @rho1/safetensors' writeCheckpoint into a temp dir
 * that is deleted afterwards): load seconds, peak RSS (VmHWM) and scoring tokens/s of 2 x 512 tokens, ours (with
 * @rho1/tfjs-native) against the plain-PyTorch Llama loading the same folder into float32, each side in a fresh
 * process with the files already in the page cache. Correctness: max |Δlogit| on a 1 x 16 check input. Ratio last.
 *
 *   bun benchmarks/load/run.ts [--batch 2] [--seq 512] [--reps 1] [--dir DIR (reuse/keep a checkpoint there)]
 *                              [--shard-mb 500] [--cpu (also load with the stock cpu backend; no scoring)]
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { float32ToBf16, type TensorToWrite, writeCheckpoint } from "@rho1/safetensors";
import { CausalLM, parameterShapes, parseConfig } from "@rho1/transformer";
import {
  compareLogits,
  describeMachine,
  fmt,
  llamaConfigJson,
  peakRssGb,
  randomIds,
  readFloat32File,
  runAnchor,
  runChild,
  setupOurs,
} from "../lib/anchor.ts";
import { benchArgs } from "../lib/args.ts";
import { timeScoring, writeCheckLogits } from "../lib/ours.ts";

/** TinyLlama-1.1B's config.json (transformers 4.x dialect), BF16. */
const TINYLLAMA_SHAPE = llamaConfigJson(
  {
    hidden_size: 2048,
    intermediate_size: 5632,
    num_hidden_layers: 22,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    vocab_size: 32000,
  },
  "bfloat16",
);

interface ChildSpec {
  model: string;
  scoreIds: number[][] | null;
  checkIds: number[][];
  checkOut: string;
  reps: number;
}
interface ChildResult {
  backend: string;
  load_s: number;
  peak_rss_after_load_gb: number;
  peak_rss_gb: number;
  tokens_per_s: number | null;
  mean_loss: number | null;
}

const values = benchArgs(
  {
    batch: { type: "string", default: "2" },
    seq: { type: "string", default: "512" },
    reps: { type: "string", default: "1" },
    dir: { type: "string" },
    "shard-mb": { type: "string", default: "500" },
    cpu: { type: "boolean", default: false },
    child: { type: "string" },
    write: { type: "string" },
  },
  {
    usage:
      "Loading a TinyLlama-1.1B-shaped sharded BF16 checkpoint: load seconds, peak RSS and scoring tokens/s of ours (native kernels); anchor: the plain-PyTorch Llama loading the same folder, same run.",
    describe: {
      batch: "sequences per scoring batch",
      seq: "tokens per sequence",
      reps: "timed scoring repetitions",
      dir: "reuse/keep a checkpoint in this folder (unset: a temp dir, deleted)",
      "shard-mb": "shard size in MB when writing the checkpoint",
      cpu: "also load with the stock cpu backend (no scoring)",
      child: "internal: run one side on the spec in this file",
      write: "internal: write the random checkpoint into this folder",
    },
  },
);

if (values.write) {
  await writeRandomCheckpoint(values.write, Number(values["shard-mb"]) * 1e6);
  console.log(JSON.stringify({ peak_rss_gb: peakRssGb() }));
} else if (values.child) {
  const spec = JSON.parse(readFileSync(values.child, "utf8")) as ChildSpec;
  const backend = await setupOurs();
  const t0 = performance.now();
  const model = await CausalLM.load(spec.model);
  const loadS = (performance.now() - t0) / 1000;
  const afterLoad = peakRssGb();
  writeCheckLogits(model, spec.checkIds, spec.checkOut); // also the warm-up
  const r = spec.scoreIds ? timeScoring(model, spec.scoreIds, spec.reps, null) : null;
  const result: ChildResult = {
    backend,
    load_s: loadS,
    peak_rss_after_load_gb: afterLoad,
    peak_rss_gb: peakRssGb(),
    tokens_per_s: r?.tokens_per_s ?? null,
    mean_loss: r?.mean_loss ?? null,
  };
  model.dispose();
  console.log(JSON.stringify(result));
} else {
  await main();
}

/**
 * Random BF16 weights (uniform ±0.035, i.e. std ≈ 0.02; norms 1), tensor by tensor so that only the BF16 copies
 * (the checkpoint's size) stay in memory until written. Each tensor is a window, at a random offset, of one pool of
 * random values whose length is prime (no row repeats another): generating 1.1 billion fresh values took ~50 s.
 */
async function writeRandomCheckpoint(dir: string, maxShardBytes: number): Promise<void> {
  const config = parseConfig(TINYLLAMA_SHAPE, "tinyllama-shape");
  const POOL = 8_388_593; // prime
  const pool32 = new Float32Array(POOL);
  let x = 12345;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  for (let i = 0; i < POOL; i++) pool32[i] = (next() / 4294967296 - 0.5) * 0.07;
  const pool = float32ToBf16(pool32);
  const one = float32ToBf16(new Float32Array([1]))[0];
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, shape] of parameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Uint16Array(n);
    if (name.endsWith("norm.weight")) data.fill(one);
    else
      for (let at = 0, from = next() % POOL; at < n; from = 0) {
        const len = Math.min(POOL - from, n - at);
        data.set(pool.subarray(from, from + len), at);
        at += len;
      }
    tensors.set(name, { dtype: "BF16", shape, data });
  }
  await writeCheckpoint(dir, tensors, { maxShardBytes });
  await Bun.write(join(dir, "config.json"), `${JSON.stringify(TINYLLAMA_SHAPE, null, 2)}\n`);
}

/** Reads every file of the folder once, so both sides load from the page cache rather than the disk. */
function warmPageCache(dir: string): void {
  const buf = Buffer.allocUnsafe(1 << 24);
  for (const f of readdirSync(dir)) {
    const fd = openSync(join(dir, f), "r");
    while (readSync(fd, buf, 0, buf.length, null) > 0) {}
    closeSync(fd);
  }
}

async function main() {
  const [batch, seq, reps] = [Number(values.batch), Number(values.seq), Number(values.reps)];
  console.log(describeMachine());
  const tmp = mkdtempSync(join(tmpdir(), "rho1-bench-load-"));
  const dir = values.dir ?? join(tmp, "tinyllama-shape-bf16");
  try {
    if (!existsSync(join(dir, "config.json"))) {
      const t0 = performance.now();
      const w = runChild<{ peak_rss_gb: number }>(import.meta.path, [
        "--write",
        dir,
        "--shard-mb",
        values["shard-mb"] ?? "500",
      ]);
      console.log(
        `wrote the checkpoint in ${((performance.now() - t0) / 1000).toFixed(1)} s (writer peak RSS ${w.peak_rss_gb.toFixed(2)} GB)`,
      );
    }
    const files = readdirSync(dir).filter((f) => f.endsWith(".safetensors"));
    const bytes = files.reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    const gb = bytes / 1e9;
    console.log(`checkpoint: ${dir}: ${files.length} shards, ${gb.toFixed(2)} GB BF16`);

    const scoreIds = randomIds(batch, seq, TINYLLAMA_SHAPE.vocab_size, 1);
    const checkIds = randomIds(1, 16, TINYLLAMA_SHAPE.vocab_size, 2);
    const specPath = join(tmp, "spec.json");
    const checkOut = join(tmp, "ours-logits.bin");
    const torchLogits = join(tmp, "torch-logits.bin");

    warmPageCache(dir);
    await Bun.write(
      specPath,
      JSON.stringify({ model: dir, scoreIds, checkIds, checkOut, reps } satisfies ChildSpec),
    );
    const ours = runChild<ChildResult>(import.meta.path, ["--child", specPath], { RHO1_NATIVE: "1" });
    const oursLogits = readFloat32File(checkOut);

    warmPageCache(dir);
    const torch = runAnchor({
      model: dir,
      check: { ids: checkIds, out: torchLogits },
      score: { ids: scoreIds, reps, warmup_full: false },
    });
    const diff = compareLogits(oursLogits, readFloat32File(torchLogits));
    const torchTps = torch.score?.tokens_per_s ?? Number.NaN;
    const oursTps = ours.tokens_per_s ?? Number.NaN;
    const line = (
      who: string,
      loadS: number,
      afterLoad: number,
      peak: number,
      tps: number,
      loss: number | undefined,
    ) =>
      console.log(
        `${who}: load ${loadS.toFixed(1)} s, peak RSS after load ${afterLoad.toFixed(2)} GB, overall ${peak.toFixed(2)} GB ` +
          `(${(peak / gb).toFixed(2)}x the checkpoint), scoring ${batch}x${seq} ${fmt(tps, 1)} tokens/s (mean loss ${loss?.toFixed(4)})`,
      );
    line(
      `ours [${ours.backend}]`,
      ours.load_s,
      ours.peak_rss_after_load_gb,
      ours.peak_rss_gb,
      oursTps,
      ours.mean_loss ?? undefined,
    );
    line(
      `PyTorch ${torch.torch} (threads ${torch.threads})`,
      torch.load_s,
      torch.peak_rss_after_load_gb,
      torch.peak_rss_gb,
      torchTps,
      torch.score?.mean_loss,
    );
    console.log(
      `max |Δlogit| ours vs PyTorch on 1x16: ${diff.maxAbs.toExponential(2)} (rel ${diff.rel.toExponential(2)})`,
    );

    let cpuRow = "";
    if (values.cpu) {
      warmPageCache(dir);
      await Bun.write(
        specPath,
        JSON.stringify({ model: dir, scoreIds: null, checkIds, checkOut, reps } satisfies ChildSpec),
      );
      const cpu = runChild<ChildResult>(import.meta.path, ["--child", specPath], { RHO1_NATIVE: "0" });
      const d = compareLogits(readFloat32File(checkOut), readFloat32File(torchLogits));
      console.log(
        `ours [${cpu.backend}]: load ${cpu.load_s.toFixed(1)} s, peak RSS ${cpu.peak_rss_gb.toFixed(2)} GB; max |Δlogit| ${d.maxAbs.toExponential(2)}`,
      );
      cpuRow = `| ours, stock cpu (no scoring) | ${cpu.load_s.toFixed(1)} | ${cpu.peak_rss_after_load_gb.toFixed(2)} | ${cpu.peak_rss_gb.toFixed(2)} | n/a |`;
    }

    console.log(
      "\n| TinyLlama-1.1B shape, BF16, sharded | load s | peak RSS after load GB | peak RSS GB | scoring 2×512 tokens/s |",
    );
    console.log("| --- | ---: | ---: | ---: | ---: |");
    console.log(
      `| ours (native) | ${ours.load_s.toFixed(1)} | ${ours.peak_rss_after_load_gb.toFixed(2)} | ${ours.peak_rss_gb.toFixed(2)} | ${fmt(oursTps, 1)} |`,
    );
    console.log(
      `| PyTorch ${torch.torch} | ${torch.load_s.toFixed(1)} | ${torch.peak_rss_after_load_gb.toFixed(2)} | ${torch.peak_rss_gb.toFixed(2)} | ${fmt(torchTps, 1)} |`,
    );
    if (cpuRow) console.log(cpuRow);
    console.log(
      `\nratio ours/PyTorch: load speed ${(torch.load_s / ours.load_s).toFixed(2)}x, peak RSS ` +
        `${(ours.peak_rss_gb / torch.peak_rss_gb).toFixed(2)}x, scoring ${(oursTps / torchTps).toFixed(2)}x ` +
        `(max |Δlogit| ${diff.maxAbs.toExponential(1)})`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
