/**
 * The packages as users get them: starts a real npm registry (Verdaccio) on localhost with a temporary config and
 * storage, publishes every package there in dependency order (scripts/publish.ts), then, in empty folders outside
 * the repository, installs them with the README's own install lines and runs every fenced TypeScript block of
 * every package README: type-checked under a default `bun init` tsconfig, run under Bun, and under Node >= 20
 * (except packages that declare themselves Bun-only). Last, `npm install -g rho1` into a temporary prefix and
 * `rho1 generate` with no other file present. Verdaccio is stopped by its pid whatever happens.
 *
 *   bun run build && bun scripts/registry-check.ts [--keep]
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
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Subprocess, spawn } from "bun";
import { ROOT, workspacePackages } from "./packages.ts";
import { publishAll } from "./publish.ts";

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

function sh(cmd: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 600_000) {
  const p = Bun.spawnSync(cmd, {
    cwd,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function must(cmd: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = sh(cmd, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} (in ${cwd}) exited ${r.code}:\n${r.err}${r.out}`);
  return r.out;
}

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
log: { type: stdout, format: pretty, level: warn }
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

/** The `bun add ...` lines of a README's ```sh blocks. */
export function installLines(markdown: string): string[][] {
  const lines: string[][] = [];
  for (const m of markdown.matchAll(/^```(?:sh|bash|shell)\s*\n([\s\S]*?)^```\s*$/gm)) {
    for (const line of (m[1] as string).split("\n")) {
      const words = line.trim().split(/\s+/);
      if (words[0] === "bun" && words[1] === "add")
        lines.push(words.slice(2).filter((w) => !w.startsWith("#")));
    }
  }
  return lines;
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

    for (const pkg of workspacePackages()) {
      const readme = join(pkg.path, "README.md");
      if (!existsSync(readme)) continue;
      const markdown = readFileSync(readme, "utf8");
      const blocks = typescriptBlocks(markdown);
      if (blocks.length === 0) continue;
      const bunOnly = !pkg.json.engines || !("node" in (pkg.json.engines as Record<string, string>));
      record(
        `${pkg.json.name} README (${blocks.length} TypeScript block${blocks.length > 1 ? "s" : ""})`,
        () => {
          const app = join(work, "apps", pkg.dir);
          mkdirSync(app, { recursive: true });
          must(["bun", "init", "-y"], app, env);
          rmSync(join(app, "index.ts"));
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
          const runtimes: string[] = [];
          for (const file of files) {
            must(["bun", file], app, env);
            if (!bunOnly) {
              const js = file.replace(/\.ts$/, ".mjs");
              writeFileSync(join(app, js), transpiler.transformSync(readFileSync(join(app, file), "utf8")));
              must(["node", js], app, env);
            }
          }
          runtimes.push("bun", ...(bunOnly ? [] : ["node"]));
          return `installed with ${adds.map((a) => `bun add ${a.join(" ")}`).join("; ")}; type-checked; ran under ${runtimes.join(" and ")}`;
        },
      );
    }

    record("npm install -g rho1; rho1 generate in an empty folder", () => {
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
      return JSON.stringify(out.trim().slice(0, 80));
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
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());

export { ROOT };
