import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type FeatureViewSpec, type JoinKeySpec } from "../definitions/specs.js";
import { InvalidRequestError } from "../errors.js";
import { parseInteger } from "../online/coerce-value.js";
import { entityKey } from "../online/entity-key.js";
import type { RegistrySnapshot, ViewVersionRecord } from "../registry/registry-records.js";
import { quoteIdent, quoteString, timestampLiteral } from "../util/sql.js";
import { storedView as storedViewSpec } from "../aggregation/stored-view.js";

/** A data subject: join key → value as text, e.g. { customer_id: "42" }. */
export type Subject = Readonly<Record<string, string>>;

/**
 * Parses `--entity customer_id=42` options into a subject.
 *
 * @example
 * parseSubject(["customer_id=42"]); // { customer_id: "42" }
 */
export function parseSubject(pairs: readonly string[]): Subject {
  if (pairs.length === 0) throw new InvalidRequestError("name the data subject: --entity <join key>=<value>");
  const subject: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidRequestError(`--entity "${pair}": expected <join key>=<value>`);
    const name = pair.slice(0, eq);
    if (name in subject) throw new InvalidRequestError(`--entity names join key "${name}" twice`);
    subject[name] = pair.slice(eq + 1);
  }
  return subject;
}

/** Whether a view has every join key of the subject (then the subject's rows in it are erased). */
export function coversView(spec: FeatureViewSpec, subject: Subject): boolean {
  return Object.keys(subject).every((k) => spec.joinKeys.some((j) => j.name === k));
}

/**
 * The view versions an erasure reaches: every version (removed ones too: their data may remain)
 * of the views holding all the subject's join keys, optionally only `only` (each must hold them).
 */
export function erasedViews(snapshot: RegistrySnapshot, subject: Subject, only?: readonly string[]): ViewVersionRecord[] {
  for (const name of only ?? []) {
    const versions = snapshot.views.filter((v) => v.name === name);
    if (versions.length === 0) throw new InvalidRequestError(`--views: no feature view "${name}"`);
    if (!versions.some((v) => coversView(v.spec, subject))) throw new InvalidRequestError(`--views: feature view "${name}" has no join key ${Object.keys(subject).join(", ")}`);
  }
  const views = snapshot.views.filter((v) => coversView(v.spec, subject) && (only === undefined || only.includes(v.name)));
  if (views.length === 0) throw new InvalidRequestError(`no feature view has the join key${Object.keys(subject).length > 1 ? "s" : ""} ${Object.keys(subject).join(", ")}`);
  return views;
}

/** The subject's values typed as the view's join keys (an integer key refuses "4x"). */
function typedValues(joinKeys: readonly JoinKeySpec[], subject: Subject): Record<string, string | bigint> {
  const typed: Record<string, string | bigint> = {};
  for (const [name, text] of Object.entries(subject)) {
    const key = joinKeys.find((j) => j.name === name)!;
    if (key.type === "String") typed[name] = text;
    else {
      const n = parseInteger(key.type as "Int32" | "Int64", text);
      if (n === undefined) throw new InvalidRequestError(`--entity ${name}=${text}: join key "${name}" is an ${key.type} integer`);
      typed[name] = n;
    }
  }
  return typed;
}

/** The canonical online entity key, when the subject gives all of the view's join keys; else undefined (keys are matched by scan). */
export function exactEntityKey(spec: FeatureViewSpec, subject: Subject): string | undefined {
  if (spec.joinKeys.length !== Object.keys(subject).length) return undefined;
  return entityKey(spec.joinKeys, typedValues(spec.joinKeys, subject));
}

/** Whether a canonical entity key (entity-key.ts) of the view belongs to the subject. */
export function entityKeyMatches(spec: FeatureViewSpec, subject: Subject, key: string): boolean {
  const parts = splitEntityKey(key);
  const typed = typedValues(spec.joinKeys, subject);
  return spec.joinKeys.every((j, i) => !(j.name in typed) || parts[i] === entityKey([j], typed));
}

/** The parts of a canonical entity key: integers, or JSON strings (which may hold commas). */
function splitEntityKey(key: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i <= key.length) {
    let end = i;
    if (key[i] === '"') {
      end++;
      while (end < key.length && key[end] !== '"') end += key[end] === "\\" ? 2 : 1;
      end++;
    } else while (end < key.length && key[end] !== ",") end++;
    parts.push(key.slice(i, end));
    i = end + 1;
  }
  return parts;
}

/** The subject as `join_key=value` texts with values canonical for the view's key types (042 is 42), as the serving log records them. */
export function subjectTexts(spec: FeatureViewSpec, subject: Subject): string[] {
  return Object.entries(typedValues(spec.joinKeys, subject)).map(([name, v]) => `${name}=${v.toString()}`);
}

/** Whether a row (an event: join key columns by name) belongs to the subject. */
export function rowMatches(row: Readonly<Record<string, unknown>>, subject: Subject): boolean {
  for (const name in subject) {
    const value = row[name];
    const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "bigint" ? value.toString() : undefined;
    if (text !== subject[name]) return false;
  }
  return true;
}

/**
 * SQL: whether an offline row of the view is the subject's and from at or before the boundary
 * (its event or its arrival). Rows created after the erasure with later event times are new data.
 */
export function erasedRowSql(spec: FeatureViewSpec, subject: Subject, boundaryMicros: number): string {
  const at = timestampLiteral(BigInt(boundaryMicros));
  return `(${subjectRowSql(spec, subject)} AND (${EVENT_TIMESTAMP} <= ${at} OR ${CREATED_TIMESTAMP} <= ${at}))`;
}

/** SQL: whether a row of the view (any time) holds the subject's keys, for scans that must find every trace. */
export function subjectRowSql(spec: FeatureViewSpec, subject: Subject): string {
  return `(${Object.entries(typedValues(spec.joinKeys, subject))
    .map(([name, v]) => `${quoteIdent(name)} = ${typeof v === "bigint" ? v.toString() : quoteString(v)}`)
    .join(" AND ")})`;
}

/** SQL: whether an offline row of the view is covered by any of the erasures (undefined when none reaches the view). */
export function erasuresRowSql(record: ViewVersionRecord, erasures: readonly { readonly views: readonly string[]; readonly subject: Subject; readonly boundaryMicros: number }[]): string | undefined {
  const hits = erasures.filter((e) => e.views.includes(record.name) && coversView(record.spec, e.subject));
  return hits.length === 0 ? undefined : hits.map((e) => erasedRowSql(storedViewSpec(record.spec), e.subject, e.boundaryMicros)).join(" OR ");
}
