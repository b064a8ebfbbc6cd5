import type { OnlineConfig } from "../config/project-config.js";
import type { OnlineStore } from "./online-store.js";
import { PostgresOnlineStore } from "./postgres-online-store.js";
import { SqliteOnlineStore } from "./sqlite-online-store.js";

export function openOnlineStore(config: OnlineConfig, project: string): OnlineStore {
  return config.type === "sqlite" ? new SqliteOnlineStore(config.path, project) : new PostgresOnlineStore(config.url, config.schema, project, config.poolSize);
}
