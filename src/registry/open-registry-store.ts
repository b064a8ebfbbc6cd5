import type { StoreConfig } from "../config/project-config.js";
import { PostgresRegistryStore } from "./postgres-registry-store.js";
import type { RegistryStore } from "./registry-store.js";
import { SqliteRegistryStore } from "./sqlite-registry-store.js";

export function openRegistryStore(config: StoreConfig, project: string): RegistryStore {
  return config.type === "sqlite" ? new SqliteRegistryStore(config.path, project) : new PostgresRegistryStore(config.url, config.schema, project);
}
