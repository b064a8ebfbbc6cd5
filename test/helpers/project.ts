import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { FeatureStore } from "../../src/feature-store.js";
import { tempDir } from "./temp-dir.js";

/** Writes a project (strata.yaml + optional features.ts) into a temp folder and returns it. */
export async function makeProject(options: { features?: string; config?: Record<string, unknown>; dir?: string } = {}): Promise<string> {
  const dir = options.dir ?? (await tempDir());
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "strata.yaml"), stringify({ project: "test_project", ...options.config }));
  if (options.features !== undefined) await writeFile(join(dir, "features.ts"), options.features);
  return dir;
}

export async function openProject(options: Parameters<typeof makeProject>[0] = {}): Promise<{ dir: string; store: FeatureStore }> {
  const dir = await makeProject(options);
  return { dir, store: await FeatureStore.open(dir, { actor: "test" }) };
}
