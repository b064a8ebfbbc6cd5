import { aggregateName, defaultHopSeconds, outputTypeName, SECONDS_PER_DAY, unsupported } from "../aggregation/aggregate-rules.js";
import { canonicalJson, sha256Hex } from "../util/canonical-json.js";
import type { AggregationView } from "./aggregation-view.js";
import { describe } from "./compile-entity.js";
import { compileDuration, compileEntities, compileOnline, compileSchema, compileSource } from "./compile-feature-view.js";
import { checkMetadata, checkName, type Problems } from "./problems.js";
import { AGGREGATE_FUNCTIONS, type AggregateFunction, type AggregateSpec, type AggregationSpec, type EntitySpec, type FeatureSpec, type FeatureViewSpec } from "./specs.js";
import { valueTypeFromName } from "./value-type.js";

/**
 * Compiles an aggregation view to a FeatureViewSpec whose features are the aggregates and whose
 * `aggregation` holds the event columns and the aggregates: the one transformation that the
 * batch plan (tiles in DuckDB) and the streaming state both derive from.
 */
export function compileAggregationView(input: AggregationView, entitySpecs: ReadonlyMap<unknown, EntitySpec>, problems: Problems): FeatureViewSpec {
  checkName(problems, "name", input.name);
  const { entities, joinKeys } = compileEntities(input.entities, entitySpecs, problems);
  const events = compileSchema(input.schema, new Set(joinKeys.map((k) => k.name)), problems);
  const { batch, nats, pushName } = compileStreamSource(input.source, new Set([...events.map((f) => f.name), ...joinKeys.map((k) => k.name)]), problems);
  const aggregates = compileAggregates(input.aggregations, events, problems);
  const allowedLatenessSeconds = input.allowedLateness === undefined ? 0 : (compileDuration(input.allowedLateness, "allowedLateness", problems) ?? 0);
  const transform = { joinKeys, events: events.map((e) => ({ name: e.name, type: e.type })), aggregates };
  const aggregation: AggregationSpec = { events, aggregates, allowedLatenessSeconds, nats, transformHash: sha256Hex(canonicalJson(transform)) };
  return {
    name: input.name,
    entities,
    joinKeys,
    features: aggregates.map((a): FeatureSpec => ({ name: a.name, type: outputTypeName(a.function, a.column === null ? null : valueTypeFromName(events.find((e) => e.name === a.column)!.type)!), description: "" })),
    ttlSeconds: null,
    online: compileOnline(input.online, problems),
    source: batch,
    pushSource: pushName,
    aggregation,
    ...checkMetadata(problems, input),
  };
}

function compileStreamSource(source: unknown, columns: ReadonlySet<string>, problems: Problems) {
  const input = (typeof source === "object" && source !== null ? source : {}) as Record<string, unknown>;
  if (input.kind !== "streamSource") return { batch: compileSource(source, columns, problems), nats: null, pushName: null };
  const nats = (typeof input.nats === "object" && input.nats !== null ? input.nats : {}) as Record<string, unknown>;
  const stream = typeof nats.stream === "string" && nats.stream !== "" ? nats.stream : "";
  const subject = typeof nats.subject === "string" && nats.subject !== "" ? nats.subject : "";
  if (stream === "" || !/^[A-Za-z0-9_-]+$/.test(stream)) problems.add("source.nats.stream", "expected a JetStream stream name (letters, digits, _ and -)");
  if (subject === "") problems.add("source.nats.subject", "expected a subject, e.g. \"tx.*\"");
  const name = input.name ?? stream;
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) problems.add("source.name", "expected a name (letters, digits, _ and -)");
  const batch = compileSource(input.batch, columns, problems);
  if (input.timestampField !== batch.timestampField) problems.add("source.timestampField", `must equal the batch source's (${JSON.stringify(batch.timestampField)}): both carry the same events`);
  return { batch, nats: { stream, subject }, pushName: typeof name === "string" ? name : "" };
}

function compileAggregates(input: unknown, events: readonly FeatureSpec[], problems: Problems): AggregateSpec[] {
  if (!Array.isArray(input) || input.length === 0) {
    problems.add("aggregations", "expected a non-empty list of { column, function, window }");
    return [];
  }
  const out: AggregateSpec[] = [];
  for (const [i, item] of (input as unknown[]).entries()) {
    const field = `aggregations[${i}]`;
    const a = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const fn = a.function as AggregateFunction;
    if (!AGGREGATE_FUNCTIONS.includes(fn)) {
      problems.add(`${field}.function`, `unknown function ${describe(a.function)} (expected one of ${AGGREGATE_FUNCTIONS.join(", ")})`);
      continue;
    }
    let column: string | null = null;
    if (a.column === "*") {
      if (fn !== "count") problems.add(`${field}.column`, `"*" only counts events; ${fn} needs a column`);
    } else {
      const event = events.find((e) => e.name === a.column);
      if (event === undefined) {
        problems.add(`${field}.column`, `${describe(a.column)} is not a column of the schema (${events.map((e) => e.name).join(", ")}) nor "*"`);
        continue;
      }
      const why = unsupported(fn, valueTypeFromName(event.type)!);
      if (why !== undefined) problems.add(`${field}.function`, why);
      column = event.name;
    }
    const window = seconds(a.window, `${field}.window`, problems);
    if (window === undefined) continue;
    const hop = a.hop === undefined ? defaultHopSeconds(window) : seconds(a.hop, `${field}.hop`, problems);
    if (hop === undefined) continue;
    if (window % hop !== 0) problems.add(`${field}.hop`, `the window (${window}s) must be a whole number of hops (${hop}s)`);
    if (SECONDS_PER_DAY % hop !== 0) problems.add(`${field}.hop`, `a hop must divide one day (86400s) so tiles never straddle a date partition; got ${hop}s`);
    const name = aggregateName(column, fn, window);
    if (out.some((o) => o.name === name)) problems.add(field, `aggregate ${name} is declared twice`);
    else out.push({ name, column, function: fn, windowSeconds: window, hopSeconds: hop });
  }
  return out;
}

/** A window or hop: a duration longer than 0s. */
function seconds(value: unknown, field: string, problems: Problems): number | undefined {
  const parsed = compileDuration(value, field, problems);
  if (parsed === 0) problems.add(field, "must be longer than 0s");
  return parsed === 0 ? undefined : parsed;
}
