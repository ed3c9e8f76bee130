/**
 * Node in the everyday suite (the registry check in CI runs every package under Node, from a real registry; this
 * catches the common regression in seconds): library code of every package that declares engines.node uses no Bun
 * API outside the one runtime switch; safetensors + tokenizer + io, bundled from source, read the stories260K
 * checkpoint and tokenizer under Node exactly as under Bun; @rho1/native-build compiles there; and
 * @rho1/distributed's MPI path names what it needs.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { filesUnder, isTestCode, ROOT, workspacePackages } from "./packages.ts";

/** The files allowed to touch Bun: the runtime switch, and the MPI shim loaded only under Bun (mpi.ts checks). */
const BUN_ALLOWED = new Set(["packages/io/src/runtime.ts", "packages/distributed/src/mpi-ffi.ts"]);

test("packages that declare engines.node use no Bun API outside @rho1/io's runtime switch", () => {
  const nodePackages = workspacePackages().filter((p) => (p.json.engines as Record<string, string>)?.node);
  expect(nodePackages.map((p) => p.json.name)).toContain("@rho1/transformer");
  const offending: string[] = [];
  for (const pkg of nodePackages) {
    for (const file of filesUnder(join(pkg.path, "src")).filter((f) => f.endsWith(".ts"))) {
      const path = relative(ROOT, file);
      if (isTestCode(path) || BUN_ALLOWED.has(path)) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          const code = line
            .replace(/\/\*.*?\*\//g, "")
            .replace(/\/\/.*$/, "")
            .replace(/^\s*(\/\*|\*).*$/, "");
          if (/\bBun\.|["']bun:|import\.meta\.(dir|path|main)\b/.test(code))
            offending.push(`${path}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  // cli/src/main.ts keeps `if (import.meta.main)` for `bun src/main.ts`; the installed command is bin.ts.
  expect(offending.filter((l) => !l.startsWith("packages/cli/src/main.ts:"))).toEqual([]);
});

function nodeBinary(): string {
  const node = Bun.which("node");
  if (!node) throw new Error("node is not on PATH (CI installs bun through npm, so it has node)");
  return node;
}

const source = (pkg: string) => JSON.stringify(join(ROOT, "packages", pkg, "src/index.ts"));

/**
 * Bundles `code` (which imports packages by their source paths) for Node and runs it with each runtime given,
 * returning the JSON each printed. Code splitting keeps dynamically imported modules (bun:ffi) in chunks of their
 * own, loaded only when reached, as in dist/.
 */
async function bundleAndRun(
  code: string,
  runtimes: string[],
  args: string[] = [],
  env: Record<string, string | undefined> = process.env,
): Promise<Record<string, unknown>[]> {
  const out = mkdtempSync(join(tmpdir(), "rho1-node-smoke-"));
  try {
    writeFileSync(join(out, "entry.ts"), code);
    const bundle = await Bun.build({
      entrypoints: [join(out, "entry.ts")],
      target: "node",
      format: "esm",
      outdir: out,
      splitting: true,
      // Bun-only, and reached only under Bun (behind isBun): left as imports, as in dist/.
      external: ["@rho1/tfjs-native", "@rho1/tfjs-native/*"],
    });
    if (!bundle.success) throw new Error(`bundling failed: ${bundle.logs.join("\n")}`);
    return runtimes.map((runtime) => {
      const p = Bun.spawnSync([runtime, join(out, "entry.js"), ...args], { stderr: "pipe", env });
      if (p.exitCode !== 0 || p.stderr.length > 0) throw new Error(`${runtime}: ${p.stderr.toString()}`);
      return JSON.parse(p.stdout.toString()) as Record<string, unknown>;
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test("safetensors, tokenizer and io bundled from source read stories260K the same under Node", async () => {
  const work = mkdtempSync(join(tmpdir(), "rho1-node-smoke-data-"));
  try {
    const jsonl = join(work, "records.jsonl");
    writeFileSync(jsonl, '{"text": "a\u2028b"}\n\n{"n": 2}\r\n');
    const code = `import { isBun, readJsonLines } from ${source("io")};
import { openCheckpoint } from ${source("safetensors")};
import { loadTokenizer } from ${source("tokenizer")};
const dir = process.argv[2];
const model = openCheckpoint(dir);
let sum = 0;
for (const v of model.readFloat32("model.embed_tokens.weight")) sum += v;
const tok = await loadTokenizer(dir);
const lines = [];
for await (const { value } of readJsonLines(process.argv[3])) lines.push(value);
console.log(JSON.stringify({ isBun, names: model.names.length, sum, ids: tok.encode("Once upon a time"), hash: tok.hash, lines }));
`;
    const [underNode, underBun] = (await bundleAndRun(
      code,
      [nodeBinary(), process.execPath],
      [join(ROOT, "models/stories260K"), jsonl],
    )) as [Record<string, unknown>, Record<string, unknown>];
    expect(underNode.isBun).toBe(false);
    expect(underBun.isBun).toBe(true);
    expect({ ...underNode, isBun: null }).toEqual({ ...underBun, isBun: null });
    expect(underNode.lines).toEqual([{ text: "a\u2028b" }, { n: 2 }]);
    expect((underNode.ids as number[])[0]).toBe(1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("@rho1/distributed under Node: connectMpi throws DistributedError mpi_unavailable naming Bun", async () => {
  const node = nodeBinary();
  const code = `import { communicatorFromEnvironment, connectMpi } from ${source("distributed")};
const solo = await communicatorFromEnvironment();
try {
  await connectMpi();
  console.log(JSON.stringify({ connected: true }));
} catch (error) {
  console.log(JSON.stringify({ size: solo.size, name: error.name, code: error.code, found: error.details.found }));
}
`;
  const env = { ...process.env };
  for (const name of ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]) delete env[name];
  const [result] = await bundleAndRun(code, [node], [], env);
  const version = Bun.spawnSync([node, "--version"]).stdout.toString().trim().slice(1);
  expect(result).toEqual({
    size: 1,
    name: "DistributedError",
    code: "mpi_unavailable",
    found: `node ${version}`,
  });
});

test("@rho1/native-build under Node compiles a shim once, into the same cache entry as under Bun", async () => {
  const work = mkdtempSync(join(tmpdir(), "rho1-node-smoke-native-"));
  try {
    const sourceDir = join(work, "src");
    mkdirSync(sourceDir);
    writeFileSync(join(sourceDir, "one.c"), "int rho1_one(void) { return 1; }\n");
    const code = `import { buildOnce } from ${source("native-build")};
const built = await buildOnce({
  sourceDir: ${JSON.stringify(sourceDir)},
  compilers: [process.env.CC, "cc", "gcc"],
  flagSets: [["-shared", "-fPIC", "-O2"]],
  libs: [],
  cacheDir: ${JSON.stringify(join(work, "cache"))},
  noCompiler: "install gcc",
});
console.log(JSON.stringify({ key: built.key, compiled: built.compiled, library: built.library }));
`;
    const [underNode, underBun] = await bundleAndRun(code, [nodeBinary(), process.execPath]);
    expect(underNode?.compiled).toBe(true);
    expect(underBun).toEqual({ ...underNode, compiled: false });
    expect(existsSync(underNode?.library as string)).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
