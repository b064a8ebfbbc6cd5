import { describe } from "./compile-entity.js";
import { parseDuration } from "./duration.js";
import type { FeatureView, FieldInput } from "./feature-view.js";
import { checkMetadata, checkName, type Problems } from "./problems.js";
import {
  RESERVED_COLUMNS,
  type BatchSourceSpec,
  type EntitySpec,
  type FeatureSpec,
  type FeatureViewSpec,
  type JoinKeySpec,
  type SourceFormat,
} from "./specs.js";
import { isNumeric, isValueType, valueTypeNames, withArticle, type ValueType } from "./value-type.js";

/** Compiles one view; `entitySpecs` maps entity objects already compiled to their specs. */
export function compileFeatureView(input: FeatureView, entitySpecs: ReadonlyMap<unknown, EntitySpec>, problems: Problems): FeatureViewSpec {
  checkName(problems, "name", input.name);
  const { entities, joinKeys } = compileEntities(input.entities, entitySpecs, problems);
  const features = compileSchema(input.schema, new Set(joinKeys.map((k) => k.name)), problems);
  return {
    name: input.name,
    entities,
    joinKeys,
    features,
    ttlSeconds: compileTtl(input.ttl, problems),
    online: compileOnline(input.online, problems),
    ...compileSources(input.source, new Set([...features.map((f) => f.name), ...joinKeys.map((k) => k.name)]), problems),
    ...checkMetadata(problems, input),
  };
}

/** A view's entities (by name) and their join keys, in order; a key shared by two entities is a problem. */
export function compileEntities(input: unknown, entitySpecs: ReadonlyMap<unknown, EntitySpec>, problems: Problems): { entities: string[]; joinKeys: JoinKeySpec[] } {
  const entities: string[] = [];
  const joinKeys: JoinKeySpec[] = [];
  if (!Array.isArray(input) || input.length === 0) problems.add("entities", "expected a non-empty list of entities");
  for (const [i, item] of (Array.isArray(input) ? (input as unknown[]) : []).entries()) {
    const spec = entitySpecs.get(item);
    if (spec === undefined) {
      problems.add(`entities[${i}]`, "is not an entity (create it with entity({ name, joinKeys }))");
      continue;
    }
    entities.push(spec.name);
    for (const key of spec.joinKeys) {
      if (joinKeys.some((k) => k.name === key.name)) problems.add(`entities[${i}]`, `join key "${key.name}" of entity "${spec.name}" is also a join key of another entity of this view`);
      else joinKeys.push(key);
    }
  }
  return { entities, joinKeys };
}

export function compileSchema(schema: unknown, joinKeys: ReadonlySet<string>, problems: Problems): FeatureSpec[] {
  if (typeof schema !== "object" || schema === null || Object.keys(schema).length === 0) {
    problems.add("schema", "expected an object of feature name → type with at least one feature");
    return [];
  }
  const features: FeatureSpec[] = [];
  for (const [name, value] of Object.entries(schema as Record<string, unknown>)) {
    const field = `schema.${name}`;
    if (!checkName(problems, field, name)) continue;
    if (joinKeys.has(name) || RESERVED_COLUMNS.has(name)) {
      problems.add(field, `"${name}" is a join key or a column the offline store reserves (${[...RESERVED_COLUMNS].join(", ")}), not a feature`);
      continue;
    }
    const input: Partial<FieldInput> = isValueType(value) ? { type: value } : typeof value === "object" && value !== null ? value : {};
    if (!isValueType(input.type)) {
      problems.add(field, `unknown type ${describe(input.type ?? value)} (expected one of ${valueTypeNames.join(", ")})`);
      continue;
    }
    const feature: FeatureSpec = { name, type: input.type.name, description: typeof input.description === "string" ? input.description : "" };
    if (input.default !== undefined) {
      if (!defaultFits(input.type, input.default)) problems.add(`${field}.default`, `${JSON.stringify(input.default)} is not ${withArticle(input.type)}`);
      features.push({ ...feature, default: input.default });
    } else features.push(feature);
  }
  return features;
}

function defaultFits(type: ValueType, value: unknown): boolean {
  if (value === null) return true;
  if (type.isArray) return Array.isArray(value) && value.every((v) => typeof v === "number");
  if (isNumeric(type)) return typeof value === "number" && (type.scalar.startsWith("Float") || Number.isInteger(value));
  if (type.scalar === "Bool") return typeof value === "boolean";
  return typeof value === "string";
}

function compileTtl(ttl: unknown, problems: Problems): number | null {
  if (ttl === undefined || ttl === null) return null;
  const seconds = compileDuration(ttl, "ttl", problems);
  return seconds === undefined || seconds === 0 ? null : seconds;
}

/** A duration field in whole seconds, or undefined after recording why it is not one. */
export function compileDuration(value: unknown, field: string, problems: Problems): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") {
    problems.add(field, `bad duration ${describe(value)}: expected e.g. "2d" or a number of seconds`);
    return undefined;
  }
  const parsed = parseDuration(value);
  if ("error" in parsed) {
    problems.add(field, parsed.error);
    return undefined;
  }
  return parsed.seconds;
}

export function compileOnline(online: unknown, problems: Problems): boolean {
  if (online === undefined) return true;
  if (typeof online !== "boolean") problems.add("online", "expected true or false");
  return online !== false;
}

/** A batch source, or a push source and the batch source it names. */
function compileSources(source: unknown, columns: ReadonlySet<string>, problems: Problems): { source: BatchSourceSpec; pushSource: string | null } {
  const input = (typeof source === "object" && source !== null ? source : {}) as Record<string, unknown>;
  if (input.kind !== "pushSource") return { source: compileSource(source, columns, problems), pushSource: null };
  if (typeof input.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(input.name)) problems.add("source.name", "a push source needs a name (letters, digits and _)");
  return { source: compileSource(input.batchSource, columns, problems), pushSource: typeof input.name === "string" ? input.name : "" };
}

const formats: Record<string, SourceFormat> = { parquet: "parquet", pq: "parquet", csv: "csv" };

export function compileSource(source: unknown, columns: ReadonlySet<string>, problems: Problems): BatchSourceSpec {
  const input = (typeof source === "object" && source !== null ? source : {}) as Record<string, unknown>;
  if (input.kind !== "batchSource") problems.add("source", "expected a batch source (batchSource({ path, timestampField })) or a push source (pushSource({ name, batchSource }))");
  const path = typeof input.path === "string" ? input.path : "";
  if (path === "") problems.add("source.path", "expected the path of a Parquet or CSV file (globs allowed)");
  const format = input.format ?? formats[/\.(\w+)$/.exec(path)?.[1]?.toLowerCase() ?? ""];
  if (format !== "parquet" && format !== "csv") problems.add("source.format", `cannot tell the format of "${path}": use a .parquet or .csv path, or set format`);
  const timestampField = input.timestampField;
  if (typeof timestampField !== "string" || timestampField === "") problems.add("source.timestampField", "expected the name of the event timestamp column");
  const created = input.createdTimestampField;
  if (created !== undefined && (typeof created !== "string" || created === "")) problems.add("source.createdTimestampField", "expected a column name");
  const fieldMapping: Record<string, string> = {};
  for (const [from, to] of Object.entries((input.fieldMapping ?? {}) as Record<string, unknown>)) {
    if (typeof to === "string" && columns.has(to)) fieldMapping[from] = to;
    else problems.add(`source.fieldMapping.${from}`, `maps to ${describe(to)}, which is neither a feature nor a join key of this view`);
  }
  return {
    kind: "batch",
    name: typeof input.name === "string" ? input.name : path,
    path,
    format: format === "csv" ? "csv" : "parquet",
    timestampField: typeof timestampField === "string" ? timestampField : "",
    createdTimestampField: typeof created === "string" ? created : null,
    fieldMapping,
  };
}
