import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { ZodError } from "zod";
import { ConfigError } from "../errors.js";
import { projectConfigSchema, type ProjectConfig, type StoreConfig } from "./project-config.js";

export const CONFIG_FILE = "strata.yaml";

/** Reads and validates `<dir>/strata.yaml`. Errors name the file and the offending key. */
export async function loadProjectConfig(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<ProjectConfig> {
  const projectDir = resolve(dir);
  const file = join(projectDir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(`no ${CONFIG_FILE} in ${projectDir}: create a project with \`strata init <dir>\` or pass -C <project-dir>`, { cause: error });
  }
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ConfigError(`${file}: ${document.errors.map((e) => e.message).join("; ")}`);
  }
  return resolveProjectConfig(projectDir, expandEnv(document.toJS() as unknown, env, file), file);
}

/** Validates a configuration object (as read from YAML) and resolves its paths against `projectDir`. */
export function resolveProjectConfig(projectDir: string, raw: unknown, origin = CONFIG_FILE): ProjectConfig {
  const parsed = projectConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`${origin}: ${formatZodError(parsed.error)}`, { details: parsed.error.issues.map((i) => i.message) });
  const config = parsed.data;
  const abs = (p: string): string => (isAbsolute(p) ? p : join(projectDir, p));
  const store = (s: StoreConfig): StoreConfig => (s.type === "sqlite" ? { type: "sqlite", path: abs(s.path) } : s);
  return {
    projectDir,
    project: config.project,
    definitions: abs(config.definitions),
    registry: store(config.registry),
    offline: { path: abs(config.offline.path) },
    online: { ...config.online, ...store(config.online) },
    server: { ...config.server, snapshot: abs(config.server.snapshot) },
    stream: config.stream,
    audit: config.audit,
    servingLog: config.servingLog,
    duckdb: { ...config.duckdb, ...(config.duckdb.tempDirectory === undefined ? {} : { tempDirectory: abs(config.duckdb.tempDirectory) }) },
  };
}

function formatZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join(".");
      const keys = issue.code === "unrecognized_keys" ? ` (${issue.keys.map((k) => `"${k}"`).join(", ")})` : "";
      return `${path === "" ? "top level" : `"${path}"`}: ${issue.message}${keys}`;
    })
    .join("; ");
}

/** Expands `${VAR}` in every string, so secrets such as database URLs stay out of the file. */
function expandEnv(value: unknown, env: NodeJS.ProcessEnv, file: string, path = ""): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
      const found = env[variable];
      if (found === undefined) throw new ConfigError(`${file}: "${path}" refers to the environment variable ${variable}, which is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, file, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, file, path === "" ? k : `${path}.${k}`)]));
  }
  return value;
}
