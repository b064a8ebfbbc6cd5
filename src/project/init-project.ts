import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { CONFIG_FILE } from "../config/load-project-config.js";
import { InvalidRequestError } from "../errors.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const driverTemplateDir = join(repoRoot, "templates", "driver");

/** A project name from a folder name: letters, digits and _ only. */
export function projectNameFor(dir: string): string {
  const name = basename(resolve(dir)).replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(name) ? name : `p_${name}`;
}

/**
 * Creates a project folder: strata.yaml (embedded defaults), the driver example's features.ts
 * and its data, and a tsconfig.json so editors resolve `import ... from "strata"` to this repo.
 */
export async function initProject(dir: string, name = projectNameFor(dir)): Promise<string[]> {
  const target = resolve(dir);
  const existing = await readdir(target).catch(() => [] as string[]);
  if (existing.includes(CONFIG_FILE)) throw new InvalidRequestError(`${target} is already a Strata project (it has ${CONFIG_FILE})`);
  if (existing.includes("features.ts")) throw new InvalidRequestError(`${target} already has a features.ts; init into an empty or new folder`);
  await mkdir(join(target, "data"), { recursive: true });
  const config = {
    project: name,
    definitions: "features.ts",
    registry: { type: "sqlite", path: ".strata/registry.db" },
    offline: { path: ".strata/offline" },
    online: { type: "sqlite", path: ".strata/online.db" },
  };
  const header = "# A Strata project. Everything here is embedded: no server needed.\n# Teams switch registry/online to { type: postgres, url: ... }.\n";
  await writeFile(join(target, CONFIG_FILE), header + stringify(config));
  await copyFile(join(driverTemplateDir, "features.ts"), join(target, "features.ts"));
  await copyFile(join(driverTemplateDir, "data", "driver_stats.parquet"), join(target, "data", "driver_stats.parquet"));
  const types = relative(target, join(repoRoot, "dist", "src", "index.d.ts"));
  const tsconfig = { compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, paths: { strata: [types] } }, include: ["*.ts"] };
  await writeFile(join(target, "tsconfig.json"), `${JSON.stringify(tsconfig, null, 2)}\n`);
  await writeFile(join(target, ".gitignore"), ".strata/\n");
  return [CONFIG_FILE, "features.ts", "data/driver_stats.parquet", "tsconfig.json", ".gitignore"];
}
