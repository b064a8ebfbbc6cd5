import { valueTypeFromName, type ValueType } from "../definitions/value-type.js";
import { parseInteger } from "../online/coerce-value.js";
import type { OnlineReadResult } from "../online/read/online-reader.js";
import type { FeatureStatus } from "../online/read/feature-status.js";
import type { ReadPlan } from "../online/read/read-plan.js";
import { feastTimestamp } from "../server/feast-format.js";
import type { ByteLines } from "../util/byte-lines.js";
import type { PackedBuilder } from "./packed-transfer.js";
import { STATUS_LETTERS } from "./serving-log-sql.js";

/**
 * A logged response's rows, in two steps. On the server's thread, `packResponse` copies what
 * the response served into a flat list of values (cheap to hand to the log's writer thread,
 * unlike the objects; see PackedBuilder); there, `renderPacked` writes it as log lines. A
 * response packs as: request id, served at (epoch ms), service (or null), plan id, rows,
 * degraded; then per join key its values; per feature its values, then per feature its status
 * codes; per view its event times.
 */

/** A read plan as the writer needs it: plain data, sent once per plan. */
export interface PlanSpec {
  readonly keys: readonly { readonly name: string; readonly type: string }[];
  readonly views: readonly { readonly view: string; readonly version: number; readonly features: readonly { readonly name: string; readonly type: string }[] }[];
}

export function planSpec(plan: ReadPlan): PlanSpec {
  return {
    keys: plan.joinKeys.map((k) => ({ name: k.name, type: k.type })),
    views: plan.views.map((v) => ({ view: v.ref.view, version: v.ref.version, features: v.features.map((f) => ({ name: f.name, type: f.type.name })) })),
  };
}

const STATUSES = Object.keys(STATUS_LETTERS) as FeatureStatus[];
const STATUS_CODE = Object.fromEntries(STATUSES.map((s, i) => [s, i])) as Readonly<Record<FeatureStatus, number>>;

/** Appends one response to `out` (see the layout above). */
export function packResponse(out: PackedBuilder, planId: number, plan: ReadPlan, requestId: string, servedAt: number, service: string | undefined, entities: Readonly<Record<string, readonly unknown[]>>, result: OnlineReadResult): void {
  const rows = result.rows;
  out.put(requestId);
  out.put(servedAt);
  out.put(service ?? null);
  out.put(planId);
  out.put(rows);
  out.put(result.degraded);
  for (const key of plan.joinKeys) {
    const values = entities[key.name]!;
    for (let i = 0; i < rows; i++) out.put(values[i]);
  }
  const { columns } = result;
  for (const column of columns) for (let i = 0; i < rows; i++) out.put(column.values[i]);
  for (const column of columns) for (let i = 0; i < rows; i++) out.put(STATUS_CODE[column.statuses[i]!]);
  let c = 0;
  for (const view of plan.views) {
    const times = columns[c]!.eventTimestamps;
    for (let i = 0; i < rows; i++) out.put(times[i]);
    c += view.features.length;
  }
}

/** What every row of a plan repeats, built once per plan. */
export interface PlanShape {
  readonly keys: readonly { readonly name: string; readonly type: string; readonly subjectPrefix: string; readonly entityPrefix: string }[];
  /** The `features` column's text (see LOG_COLUMNS). */
  readonly features: string;
  /** Per feature, its value's JSON writer. */
  readonly values: readonly ((v: unknown) => string)[];
  /** Per view, its key in `event_timestamps` (and the separator before it). */
  readonly viewKeys: readonly string[];
}

export function planShape(spec: PlanSpec): PlanShape {
  const features = spec.views.flatMap((v) => v.features.map((f) => ({ feature: `${v.view}:${f.name}`, view: v.view, version: v.version })));
  return {
    keys: spec.keys.map((k, i) => ({ ...k, subjectPrefix: `${i === 0 ? "" : ","}"${jsonInner(`${k.name}=`)}`, entityPrefix: `${i === 0 ? "{" : ","}${JSON.stringify(k.name)}:` })),
    features: JSON.stringify(features),
    values: spec.views.flatMap((v) => v.features.map((f) => valueWriter(valueTypeFromName(f.type)!))),
    viewKeys: spec.views.map((v, i) => `${i === 0 ? "" : ","}${JSON.stringify(v.view)}:`),
  };
}

const LETTER_CODES = STATUSES.map((s) => STATUS_LETTERS[s].charCodeAt(0));
const TAB = 0x09;
const COMMA = 0x2c;
const LIST_END = "]\t";
const STATUSES_END = "\t{";
const unknownStatus = (code: unknown): never => {
  throw new Error(`serving log: unknown status code ${String(code)}`);
};

/** Where rendered responses go: the batch of their date. */
export interface LineTarget {
  batch(servedAt: number): LineBatch;
  written(servedAt: number, rows: number): void;
  /** A response that could not be rendered (its bytes were taken back). */
  failed(rows: number): void;
}

/** The lines of one file, and the `features` texts they refer to. */
export interface LineBatch {
  readonly lines: ByteLines;
  /** The plan's 1-based index among the file's `features` texts. */
  featuresIndex(shape: PlanShape): number;
}

/** Renders each packed response in turn into its target's lines. */
export function renderPacked(packed: readonly unknown[], shapeOf: (planId: number) => PlanShape, target: LineTarget): void {
  for (let at = 0; at < packed.length; ) {
    const shape = shapeOf(packed[at + 3] as number);
    const rows = packed[at + 4] as number;
    const servedAt = packed[at + 1] as number;
    const next = at + 6 + (shape.keys.length + 2 * shape.values.length + shape.viewKeys.length) * rows;
    const batch = target.batch(servedAt);
    batch.lines.begin();
    try {
      writeResponse(packed, at, shape, batch.featuresIndex(shape), rows, batch.lines);
      target.written(servedAt, rows);
    } catch {
      batch.lines.rollback();
      target.failed(rows);
    }
    at = next;
  }
}

/**
 * One packed response as log lines, one tab-separated line per entity row, in the order of
 * LOG_COLUMNS: served_at in epoch milliseconds, `subject_keys` a JSON list of `join_key=value`
 * (integers in decimal, strings raw), `features` the index of the plan's text, the JSON fields
 * as LOG_COLUMNS says. JSON never holds a raw tab or newline, so the fields need no quoting; a
 * null service is `\N`.
 */
function writeResponse(packed: readonly unknown[], at: number, shape: PlanShape, featuresIndex: number, rows: number, out: ByteLines): void {
  const head = `${packed[at] as string}\t${packed[at + 1] as number}\t${(packed[at + 2] as string | null) ?? "\\N"}\t`;
  const end = packed[at + 5] === true ? "}\ttrue\n" : "}\tfalse\n";
  const index = `}\t${featuresIndex}\t[`;
  const features = shape.values.length;
  const keysAt = at + 6;
  const valuesAt = keysAt + shape.keys.length * rows;
  const statusesAt = valuesAt + features * rows;
  const timesAt = statusesAt + features * rows;
  for (let i = 0; i < rows; i++) {
    let subject = "[";
    let entity = "";
    for (let k = 0; k < shape.keys.length; k++) {
      const key = shape.keys[k]!;
      const text = keyText(key.type, packed[keysAt + k * rows + i]);
      subject += `${key.subjectPrefix}${key.type === "String" ? jsonInner(text) : text}"`;
      entity += key.entityPrefix + (key.type === "String" ? jsonString(text) : text);
    }
    // Piece by piece: a joined string would be flattened (copied) before its bytes are copied again.
    out.text(head);
    out.number(i);
    out.ascii(TAB);
    out.text(subject);
    out.text(LIST_END);
    out.text(entity);
    out.text(index);
    for (let j = 0; j < features; j++) {
      if (j > 0) out.ascii(COMMA);
      out.text(shape.values[j]!(packed[valuesAt + j * rows + i]));
    }
    out.text(LIST_END);
    for (let j = 0; j < features; j++) {
      const code = packed[statusesAt + j * rows + i] as number;
      out.ascii(LETTER_CODES[code] ?? unknownStatus(code));
    }
    out.text(STATUSES_END);
    for (let v = 0; v < shape.viewKeys.length; v++) {
      out.text(shape.viewKeys[v]!);
      const time = packed[timesAt + v * rows + i] as number | null;
      if (time === null) out.text("null");
      else out.number(time);
    }
    out.text(end);
  }
}

/** A string's JSON text without its quotes (strings without quotes, backslashes, control characters or surrogates are their own). */
function jsonInner(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return jsonString(text).slice(1, -1);
  }
  return text;
}

/** ES2024 string methods, which Node 20 has (the project's lib is ES2023). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * A string's JSON text, lone surrogates (a request may send "\ud800") replaced by U+FFFD:
 * DuckDB's JSON reader refuses them, which would fail the whole file, everyone's rows with it.
 */
function jsonString(text: string): string {
  const s = text as unknown as WellFormed;
  return JSON.stringify(s.isWellFormed() ? text : s.toWellFormed());
}

/** A join key value as text: integers in decimal (whether the request sent 7, "7" or a bigint), strings raw. */
function keyText(type: string, value: unknown): string {
  if (type === "String" || typeof value === "number") return String(value);
  return (parseInteger(type as "Int32" | "Int64", value) ?? value)?.toString() ?? "null";
}

/** JSON text of a served value of `type`: floats exact (non-finite ones as "NaN"/"Infinity" strings), timestamps RFC 3339, bytes base64. */
function valueWriter(type: ValueType): (v: unknown) => string {
  const scalar = scalarWriter(type);
  return type.isArray ? (v) => (v === null || v === undefined ? "null" : `[${(v as unknown[]).map(scalar).join(",")}]`) : scalar;
}

function scalarWriter(type: ValueType): (v: unknown) => string {
  switch (type.scalar) {
    case "Float32":
    case "Float64":
      return (v) => (v === null || v === undefined ? "null" : Number.isFinite(v) ? (Object.is(v, -0) ? "-0.0" : (v as number).toString()) : `"${(v as number).toString()}"`);
    case "Int32":
    case "Int64":
    case "Bool":
      return (v) => (v === null || v === undefined ? "null" : (v as number | bigint | boolean).toString());
    case "Timestamp":
      return (v) => (v === null || v === undefined ? "null" : `"${feastTimestamp(v as number)}"`);
    case "Bytes":
      return (v) => (v === null || v === undefined ? "null" : `"${Buffer.from(v as Uint8Array).toString("base64")}"`);
    default:
      return (v) => (v === null || v === undefined ? "null" : typeof v === "string" ? jsonString(v) : JSON.stringify(v));
  }
}
