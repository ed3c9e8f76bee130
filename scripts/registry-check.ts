/**
 * The packages as users get them: starts a real npm registry (Verdaccio) on localhost with a temporary config and
 * storage, publishes every package there in dependency order (scripts/publish.ts), then, in empty folders outside
 * the repository, installs them with the README's own install lines and runs every fenced TypeScript block of
 * every package README: type-checked under a default `bun init` tsconfig, run under Bun, and under Node >= 20
 * (except packages that declare themselves Bun-only). Then the selective-loss example on tfjs-core alone and text
 * generation with @rho1/transformer, each under Bun and Node with the same output. Last, `npm install -g rho1` into
 * a temporary prefix and `rho1 generate` with no other file present, under Bun, under Node, and by its launcher
 * with no bun on PATH. Verdaccio is stopped by its pid whatever happens.
 *
 *   bun run build && bun scripts/registry-check.ts [--keep] [--junit FILE]
 *
 * Needs network access to registry.npmjs.org (Verdaccio proxies third-party packages). RHO1_VERDACCIO=DIR reuses
 * an existing `npm install --prefix DIR verdaccio@6.8.0`.
 */

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Subprocess, spawn } from "bun";
import { ROOT, workspacePackages } from "./packages.ts";
import { must, publishAll, sh } from "./publish.ts";

/** 6.8.0 is the last Verdaccio release that runs on Node 20. */
const VERDACCIO_VERSION = "6.8.0";
const TYPESCRIPT_VERSION = "5.9.3";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
const checks: Check[] = [];
const keep = process.argv.includes("--keep");
const work = mkdtempSync(join(tmpdir(), "rho1-registry-"));

function record(name: string, fn: () => string): void {
  try {
    const detail = fn();
    checks.push({ name, ok: true, detail });
    console.log(`registry-check: ok   ${name}${detail ? `: ${detail}` : ""}`);
  } catch (error) {
    const detail = (error as Error).message;
    checks.push({ name, ok: false, detail });
    console.log(`registry-check: FAIL ${name}: ${detail}`);
  }
}

const xmlEscape = (text: string) =>
  text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] as string);

/** The checks as a JUnit report, so CI's summary counts them with the tests. */
function writeJunit(path: string): void {
  const cases = checks.map((c) => {
    const name = xmlEscape(c.name);
    return c.ok
      ? `  <testcase classname="registry-check" name="${name}"/>`
      : `  <testcase classname="registry-check" name="${name}"><failure message="${xmlEscape(c.detail.slice(0, 2000))}"/></testcase>`;
  });
  writeFileSync(
    path,
    `<?xml version="1.0"?>\n<testsuite name="registry-check">\n${cases.join("\n")}\n</testsuite>\n`,
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function verdaccioBin(): string {
  const prefix = process.env.RHO1_VERDACCIO ?? join(work, "verdaccio");
  const bin = join(prefix, "node_modules/verdaccio/bin/verdaccio");
  if (!existsSync(bin)) {
    console.log(`registry-check: npm install verdaccio@${VERDACCIO_VERSION} into ${prefix}`);
    must(
      ["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", `verdaccio@${VERDACCIO_VERSION}`],
      work,
    );
  }
  return bin;
}

function verdaccioConfig(port: number): string {
  const dir = join(work, "registry");
  mkdirSync(dir, { recursive: true });
  const ours = "    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n";
  const config = `storage: ${join(dir, "storage")}
auth:
  htpasswd:
    file: ${join(dir, "htpasswd")}
    max_users: 10
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
packages:
  "@rho1/*":
${ours}  "rho1":
${ours}  "**":
    access: $all
    publish: $authenticated
    proxy: npmjs
listen: 127.0.0.1:${port}
log: { type: stdout, format: pretty, level: error }
`;
  const path = join(dir, "config.yaml");
  writeFileSync(path, config);
  return path;
}

async function waitFor(url: string, proc: Subprocess, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    if (proc.exitCode !== null) throw new Error(`verdaccio exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await Bun.sleep(250);
  }
  throw new Error(`verdaccio did not answer ${url} within ${seconds} s`);
}

/** Creates the CI user and returns an npmrc that publishes as it. */
async function npmrcFor(registry: string): Promise<string> {
  const res = await fetch(`${registry}/-/user/org.couchdb.user:rho1-ci`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "rho1-ci", password: "rho1-ci-password", type: "user", roles: [] }),
  });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`verdaccio refused the CI user: ${res.status} ${JSON.stringify(body)}`);
  const path = join(work, "npmrc");
  const host = registry.replace(/^https?:/, "");
  writeFileSync(path, `registry=${registry}/\n${host}/:_authToken=${body.token}\n`);
  return path;
}

/** Fenced ```ts / ```typescript blocks of a README, in order. */
export function typescriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|typescript)\s*\n([\s\S]*?)^```\s*$/gm)].map((m) => m[1] as string);
}

/** The workspace packages (and `rho1`) a code block imports. */
export function importedPackages(code: string): string[] {
  const names = [...code.matchAll(/from\s+["'](@rho1\/[^/"']+|rho1)(?:\/[^"']*)?["']/g)].map(
    (m) => m[1] as string,
  );
  return [...new Set(names)];
}

/** The `bun add ...` lines of the first shell block that has any: the README's install instructions. */
export function installLines(markdown: string): string[][] {
  for (const m of markdown.matchAll(/^```(?:sh|bash|shell)\s*\n([\s\S]*?)^```\s*$/gm)) {
    const lines: string[][] = [];
    for (const line of (m[1] as string).split("\n")) {
      const words = line
        .replace(/\s#.*$/, "")
        .trim()
        .split(/\s+/);
      if (words[0] === "bun" && words[1] === "add") lines.push(words.slice(2));
    }
    if (lines.length > 0) return lines;
  }
  return [];
}

async function main(): Promise<number> {
  const port = await freePort();
  const registry = `http://127.0.0.1:${port}`;
  const bin = verdaccioBin();
  const config = verdaccioConfig(port);
  const verdaccio = spawn(["node", bin, "--config", config], {
    cwd: work,
    stdout: "inherit",
    stderr: "inherit",
  });
  console.log(`registry-check: verdaccio ${VERDACCIO_VERSION} pid ${verdaccio.pid} on ${registry}`);
  try {
    await waitFor(`${registry}/-/ping`, verdaccio, 60);
    const npmrc = await npmrcFor(registry);
    const published = publishAll({ registry, stageDir: join(work, "stage"), npmrc });
    console.log(`registry-check: published ${published.join(", ")}`);

    const env = {
      BUN_CONFIG_REGISTRY: registry,
      BUN_INSTALL_CACHE_DIR: join(work, "bun-cache"),
      npm_config_registry: registry,
      npm_config_cache: join(work, "npm-cache"),
      npm_config_userconfig: join(work, "empty-npmrc"),
      NO_COLOR: "1",
    };
    writeFileSync(env.npm_config_userconfig, "");
    const transpiler = new Bun.Transpiler({ loader: "ts" });

    const nodeCapable = new Map(
      workspacePackages().map((p) => [
        p.json.name,
        Boolean((p.json.engines as Record<string, string>)?.node),
      ]),
    );
    // Each package alone in an empty project, from the registry: its manifest must bring everything it imports.
    record(
      "every package installs alone from the registry and imports (Bun, and Node where engines.node)",
      () => {
        const names = workspacePackages().map((p) => p.json.name);
        const bunOnly: string[] = [];
        for (const name of names) {
          const alone = join(work, "alone", name.replace("/", "+"));
          mkdirSync(alone, { recursive: true });
          writeFileSync(
            join(alone, "package.json"),
            JSON.stringify({ name: "alone", private: true, type: "module" }),
          );
          must(["bun", "add", name], alone, env);
          // Side-effect-only packages (@rho1/tfjs-gradients) export nothing; the import itself must succeed.
          const probe = `await import(${JSON.stringify(name)});`;
          must(["bun", "-e", probe], alone, env);
          writeFileSync(join(alone, "probe.mjs"), probe);
          if (nodeCapable.get(name)) must(["node", "probe.mjs"], alone, env);
          else {
            // A Bun-only package says so under Node, in one typed error.
            const refused = sh(["node", "probe.mjs"], alone, env);
            if (refused.code === 0 || !/unsupported_runtime|needs Bun/.test(refused.err))
              throw new Error(
                `${name} under Node: expected an error saying it needs Bun, got:\n${refused.err}`,
              );
            bunOnly.push(name);
          }
        }
        return `${names.length} packages under Bun, ${names.length - bunOnly.length} under Node too (Bun-only, saying so under Node: ${bunOnly.join(", ")})`;
      },
    );
    for (const pkg of workspacePackages()) {
      const readme = join(pkg.path, "README.md");
      if (!existsSync(readme)) continue;
      const markdown = readFileSync(readme, "utf8");
      const blocks = typescriptBlocks(markdown);
      if (blocks.length === 0) continue;
      record(
        `${pkg.json.name} README (${blocks.length} TypeScript block${blocks.length > 1 ? "s" : ""})`,
        () => {
          const app = join(work, "apps", pkg.dir);
          mkdirSync(app, { recursive: true });
          must(["bun", "init", "-y"], app, env);
          rmSync(join(app, "index.ts"));
          // Each README's temporary files in a folder of its own.
          const appEnv = { ...env, TMPDIR: join(app, "tmp") };
          mkdirSync(appEnv.TMPDIR);
          const adds = installLines(markdown);
          if (adds.length === 0) throw new Error("README has no `bun add` line");
          for (const add of adds) must(["bun", "add", ...add], app, env);
          must(["bun", "add", "-d", `typescript@${TYPESCRIPT_VERSION}`], app, env);
          const files = blocks.map((code, i) => {
            const file = `readme-${i + 1}.ts`;
            writeFileSync(join(app, file), code);
            return file;
          });
          must(["bun", "x", "tsc", "--noEmit", "-p", "."], app, env);
          const runs: string[] = [];
          for (const [i, file] of files.entries()) {
            must(["bun", file], app, appEnv);
            // Under Node too when every package the block imports says it runs there (engines.node).
            const code = blocks[i] as string;
            const bunOnly = importedPackages(code).filter((name) => !nodeCapable.get(name));
            if (bunOnly.length === 0) {
              const js = file.replace(/\.ts$/, ".mjs");
              writeFileSync(join(app, js), transpiler.transformSync(code));
              must(["node", js], app, appEnv);
              runs.push(`block ${i + 1}: bun + node`);
            } else runs.push(`block ${i + 1}: bun (${bunOnly.join(", ")} Bun-only)`);
          }
          return `installed with ${adds.map((a) => `bun add ${a.join(" ")}`).join("; ")}; type-checked; ${runs.join("; ")}`;
        },
      );
    }

    record(
      "selective-loss README example with tfjs-core + tfjs-backend-cpu only (the smaller install): Bun and Node agree",
      () => {
        const app = join(work, "apps", "selective-loss-core");
        mkdirSync(app, { recursive: true });
        must(["bun", "init", "-y"], app, env);
        must(
          ["bun", "add", "@rho1/selective-loss", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu"],
          app,
          env,
        );
        // The README's training example with the core imports it names (@rho1/selective-loss registers tfjs-core's
        // gradients itself, under Node too).
        const readme = readFileSync(join(ROOT, "packages/selective-loss/README.md"), "utf8");
        const example = typescriptBlocks(readme).at(-1) as string;
        const coreImports = [
          'import "@tensorflow/tfjs-backend-cpu";',
          'import * as tf from "@tensorflow/tfjs-core";',
        ];
        const training = example.replace(
          /^import \* as tf from "@tensorflow\/tfjs";.*$/m,
          coreImports.join("\n"),
        );
        if (training === example) throw new Error("the README example no longer imports @tensorflow/tfjs");
        writeFileSync(join(app, "train.ts"), training);
        writeFileSync(join(app, "train.mjs"), transpiler.transformSync(training));
        const underBun = must(["bun", "train.ts"], app, env).trim();
        const underNode = must(["node", "train.mjs"], app, env).trim();
        if (underBun.split("\n").length !== 3) throw new Error(`bun: expected 3 steps, got:\n${underBun}`);
        if (underNode !== underBun)
          throw new Error(`node and bun differ:\nnode:\n${underNode}\nbun:\n${underBun}`);
        return `bun = node: ${underBun.split("\n").at(-1)}`;
      },
    );

    record("@rho1/transformer + @rho1/model-stories260k generate the same text under Bun and Node", () => {
      const app = join(work, "apps", "transformer-generate");
      mkdirSync(app, { recursive: true });
      must(["bun", "init", "-y"], app, env);
      must(["bun", "add", "@rho1/transformer", "@rho1/tokenizer", "@rho1/model-stories260k"], app, env);
      const code = `import { STORIES260K_DIR } from "@rho1/model-stories260k";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, setupBackend } from "@rho1/transformer";
await setupBackend();
const tokenizer = await loadTokenizer(STORIES260K_DIR);
const model = await CausalLM.load(STORIES260K_DIR);
const [out] = model.generate([tokenizer.encode("Once upon a time")], { maxNewTokens: 24 });
console.log(tokenizer.decode(out?.ids ?? [], { skipSpecialTokens: true }));
`;
      writeFileSync(join(app, "generate.mjs"), code);
      const underBun = must(["bun", "generate.mjs"], app, env).trim();
      const underNode = must(["node", "generate.mjs"], app, env).trim();
      if (underBun.length < 40) throw new Error(`bun generated too little: ${JSON.stringify(underBun)}`);
      if (underNode !== underBun)
        throw new Error(`node and bun differ: ${JSON.stringify(underNode)} vs ${JSON.stringify(underBun)}`);
      return JSON.stringify(underNode.slice(0, 80));
    });

    record("npm install -g rho1; rho1 generate in an empty folder, under Bun and Node", () => {
      const prefix = join(work, "global");
      must(["npm", "install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "rho1"], work, env);
      const empty = join(work, "empty");
      mkdirSync(empty);
      const out = must(
        [join(prefix, "bin", "rho1"), "generate", "--prompt", "Once upon a time", "--max-new-tokens", "24"],
        empty,
        env,
      );
      if (!out.startsWith("Once upon a time")) throw new Error(`unexpected output: ${out}`);
      if (readdirSync(empty).length > 0)
        throw new Error(`rho1 generate wrote files: ${readdirSync(empty).join(", ")}`);
      // The same command under Node: run by node explicitly, then by its launcher with no bun on PATH.
      const args = ["generate", "--prompt", "Once upon a time", "--max-new-tokens", "24"];
      const byNode = sh(["node", join(prefix, "bin", "rho1"), ...args], empty, env);
      const nodeOnly = join(work, "node-only-path");
      mkdirSync(nodeOnly);
      symlinkSync(realpathSync(Bun.which("node") as string), join(nodeOnly, "node"));
      const noBun = sh([join(prefix, "bin", "rho1"), ...args], empty, { ...env, PATH: nodeOnly });
      for (const [how, run] of [
        ["node bin/rho1", byNode],
        ["bin/rho1 without bun on PATH", noBun],
      ] as const) {
        if (run.code !== 0) throw new Error(`${how} exited ${run.code}:\n${run.err}${run.out}`);
        if (run.out !== out)
          throw new Error(`${how}: ${JSON.stringify(run.out)}, under bun ${JSON.stringify(out)}`);
        const notices = run.err.split("\n").filter((l) => l.startsWith("rho1: native kernels off"));
        if (notices.length !== 1 || !notices[0]?.includes("needs Bun"))
          throw new Error(`${how}: expected one notice that tfjs-native needs Bun, stderr:\n${run.err}`);
      }
      if (readdirSync(empty).length > 0)
        throw new Error(`rho1 generate wrote files: ${readdirSync(empty).join(", ")}`);
      return `bun = node = node without bun on PATH: ${JSON.stringify(out.trim().slice(0, 80))}`;
    });
  } finally {
    verdaccio.kill("SIGTERM");
    await verdaccio.exited;
    console.log(`registry-check: verdaccio (pid ${verdaccio.pid}) stopped`);
    if (!keep) rmSync(work, { recursive: true, force: true });
    else console.log(`registry-check: kept ${work}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`registry-check: ${checks.length - failed} passed, ${failed} failed`);
  const junit = process.argv.indexOf("--junit");
  if (junit > 0 && process.argv[junit + 1]) writeJunit(process.argv[junit + 1] as string);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());
