import type { Command } from "commander";
import { FeatureStore } from "../feature-store.js";

/** The project folder every command takes with -C (default: the current folder). */
export function projectDir(command: Command): string {
  return command.optsWithGlobals<{ projectDir?: string }>().projectDir ?? ".";
}

/** Opens the project's store for one command and closes it afterwards. */
export async function withStore<T>(command: Command, work: (store: FeatureStore) => Promise<T>): Promise<T> {
  const store = await FeatureStore.open(projectDir(command));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
