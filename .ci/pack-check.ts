// Proves every package is publishable on its own: `bun pm pack` each one, install the tarballs into an empty
// project outside the monorepo (third-party dependencies come from the npm registry), and use each package there.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "rho1-pack-"));
const packs = join(work, "packs");

function run(cmd: string[], cwd: string): string {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0)
    throw new Error(`${cmd.join(" ")} (in ${cwd}) failed:\n${p.stderr.toString()}${p.stdout.toString()}`);
  return p.stdout.toString();
}

try {
  const dirs = readdirSync(join(root, "packages"));
  const deps: Record<string, string> = {};
  for (const dir of dirs) {
    const pkg = await Bun.file(join(root, "packages", dir, "package.json")).json();
    run(["bun", "pm", "pack", "--destination", packs, "--quiet"], join(root, "packages", dir));
    const tarball = `${pkg.name.replace("@", "").replace("/", "-")}-${pkg.version}.tgz`;
    deps[pkg.name] = `file:${join(packs, tarball)}`;
  }
  // Each package alone in an empty project: its manifest must bring everything its code imports.
  for (const [name, spec] of Object.entries(deps)) {
    const alone = join(work, `alone-${name.replace("@", "").replace("/", "-")}`);
    await Bun.write(
      join(alone, "package.json"),
      JSON.stringify({
        name: "alone",
        private: true,
        type: "module",
        dependencies: { [name]: spec },
        overrides: deps,
      }),
    );
    run(["bun", "install"], alone);
    run(
      [
        "bun",
        "-e",
        `const m = await import(${JSON.stringify(name)}); if (!Object.keys(m).length) process.exit(1);`,
      ],
      alone,
    );
  }
  console.log(`pack-check: each of ${dirs.length} packages installs alone into an empty project and imports`);
  const app = join(work, "app");
  // Tarballs depend on each other by version (workspace:* was rewritten); overrides point those at the tarballs.
  await Bun.write(
    join(app, "package.json"),
    JSON.stringify(
      { name: "pack-check", private: true, type: "module", dependencies: deps, overrides: deps },
      null,
      2,
    ),
  );
  run(["bun", "install"], app);
  const smoke = `
import { openCheckpoint } from "@rho1/safetensors";
import { loadTokenizer } from "@rho1/tokenizer";
import { CausalLM, setupBackend, tf } from "@rho1/transformer";
import { selectTokens } from "@rho1/selective-loss";
import { cosineSchedule } from "@rho1/train";
import { writeFileAtomic } from "@rho1/io";
import { ScoreStore } from "@rho1/reference-scorer";
import { stripString } from "@rho1/math-eval";
import { lossCurvesSvg } from "@rho1/report";
import { nativeStatus } from "@rho1/tfjs-native";
const dir = ${JSON.stringify(join(root, "models/stories260K"))};
await setupBackend();
const names = openCheckpoint(dir).names.length;
const tok = await loadTokenizer(dir);
const model = await CausalLM.load(dir);
const [out] = model.generate([tok.encode("Once upon a time")], { maxNewTokens: 8 });
const mask = selectTokens(new Float32Array([3, 1, 2, 0]), new Float32Array([1, 1, 1, 1]), 1, 4, 0.5, "batch");
console.log(JSON.stringify({ names, text: tok.decode(out.ids), mask: Array.from(mask), lr: cosineSchedule(5, { lr: 1, minLr: 0, warmup: 10, total: 100 }),
  strip: stripString("18.00"), svg: lossCurvesSvg([{ name: "a", points: [[0, 1], [1, 0.5]] }], {}).startsWith("<svg"),
  store: typeof ScoreStore.open, io: typeof writeFileAtomic, native: typeof nativeStatus, tf: tf.getBackend() }));
`;
  await Bun.write(join(app, "smoke.ts"), smoke);
  const result = run(["bun", "smoke.ts"], app).trim();
  console.log(`pack-check: ${dirs.length} packages packed and installed outside the monorepo: ${result}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
