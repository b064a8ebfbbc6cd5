import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Message } from "esbuild";
import { collectDefinitions } from "../definitions/collect-definitions.js";
import { compileDefinitions } from "../definitions/compile-definitions.js";
import type { RepoSpec } from "../definitions/specs.js";
import { DefinitionError } from "../errors.js";

/** This package's entry point: what `import ... from "strata"` means in a definitions file. */
const strataEntry = pathToFileURL(fileURLToPath(new URL("../index.js", import.meta.url))).href;

function formatMessage(m: Message): string {
  const where = m.location === null ? "" : `${m.location.file}:${m.location.line}:${m.location.column + 1}: `;
  return `${where}${m.text}`;
}

/**
 * Loads a definitions module (TypeScript or JavaScript) from anywhere on disk: esbuild bundles
 * it with its relative imports, `strata` resolves to this installation, and the bundle is
 * imported from `cacheDir` (inside the project, so other bare imports find the project's
 * node_modules). Nothing needs to be installed next to the file.
 */
export async function loadDefinitionsModule(file: string, cacheDir: string): Promise<Record<string, unknown>> {
  let code: string;
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
      packages: "external",
      plugins: [{ name: "strata", setup: (b) => b.onResolve({ filter: /^strata$/ }, () => ({ path: strataEntry, external: true })) }],
    });
    code = result.outputFiles[0]?.text ?? "";
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    throw new DefinitionError(errors?.map(formatMessage) ?? [`${file}: ${(error as Error).message}`]);
  }
  await mkdir(cacheDir, { recursive: true });
  const bundle = join(cacheDir, `${basename(file).replace(/\W/g, "_")}-${createHash("sha256").update(code).digest("hex").slice(0, 12)}-${process.pid}.mjs`);
  await writeFile(bundle, code);
  try {
    return (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
  } catch (error) {
    throw new DefinitionError([`${file}: loading the definitions failed: ${(error as Error).message}`]);
  } finally {
    await rm(bundle, { force: true });
  }
}

/** Loads, collects and compiles the definitions in `file`. */
export async function loadRepo(file: string, cacheDir: string): Promise<RepoSpec> {
  return compileDefinitions(collectDefinitions(await loadDefinitionsModule(file, cacheDir)));
}
