import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every file under dir (relative path -> sha256 of its bytes), for byte-identity checks between stores. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else out[rel] = new Bun.CryptoHasher("sha256").update(readFileSync(join(dir, rel))).digest("hex");
    }
  };
  walk("");
  return out;
}
