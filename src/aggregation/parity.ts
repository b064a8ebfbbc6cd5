import type { FeatureViewSpec } from "../definitions/specs.js";
import { valueTypeFromName } from "../definitions/value-type.js";
import { readCommits } from "../offline/commit-log.js";
import type { DuckDb } from "../offline/duckdb.js";
import { committedFiles, ViewVersionLayout } from "../offline/offline-layout.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { microsToIso, quoteIdent, stringList } from "../util/sql.js";
import { hopGroups } from "./tile-partials.js";
import { KeyState, type EventValue, type StateEvent } from "./tile-state.js";

/** Batch values for entity rows (join keys + event_timestamp), in order: a training set. */
export type BatchValues = (rows: readonly Record<string, unknown>[], asOfIngestion: boolean) => Promise<Record<string, unknown>[]>;

export interface ParityMismatch {
  readonly key: Record<string, unknown>;
  readonly at: string;
  readonly mode: "all events" | "as of ingestion";
  readonly feature: string;
  readonly online: unknown;
  readonly batch: unknown;
}

export interface ParityReport {
  readonly view: string;
  readonly version: number;
  readonly keys: number;
  /** (key, time, feature) comparisons made. */
  readonly comparisons: number;
  readonly mismatches: number;
  readonly mismatchRate: number;
  readonly examples: readonly ParityMismatch[];
}

interface KeyEvents {
  readonly key: Record<string, unknown>;
  readonly events: StateEvent[];
}

/**
 * Replays a sample of an aggregation view's offline events through the streaming state
 * (KeyState) and compares its values with the batch plan's, for random (key, t) pairs: once with
 * every event (against the tiled plan), once in arrival order with only the events arrived by t
 * (against retrieval as of ingestion). Counts and integers must be equal, floats within 1e-9
 * relative. Lateness is not applied: events beyond it are in the event log only when files
 * brought them, and batch counts them, so the replay does too.
 */
export async function checkParity(duck: DuckDb, offlineRoot: string, record: ViewVersionRecord, batch: BatchValues, options: { sample: number; timesPerKey?: number; seed?: number }): Promise<ParityReport> {
  const spec = record.spec;
  const groups = hopGroups(spec.aggregation!.aggregates);
  const sampled = await sampleEvents(duck, offlineRoot, record, options.sample);
  let seed = options.seed ?? 1;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pairs: { key: Record<string, unknown>; t: number; events: StateEvent[] }[] = [];
  for (const { key, events } of sampled) {
    const times = events.map((e) => e.ts);
    const lo = Math.min(...times);
    const hi = Math.max(...times) + 86_400_000_000;
    for (let i = 0; i < (options.timesPerKey ?? 6); i++) {
      // Half at event times exactly (the strict `< t` edge), half anywhere in the key's range.
      const t = i % 2 === 0 ? times[Math.floor(random() * times.length)]! : Math.round(lo + random() * (hi - lo));
      pairs.push({ key, t, events });
    }
  }
  const mismatches: ParityMismatch[] = [];
  let comparisons = 0;
  for (const asOfIngestion of [false, true]) {
    const rows = await batch(pairs.map((p) => ({ ...p.key, event_timestamp: microsToIso(BigInt(p.t)) })), asOfIngestion);
    // With every event, one state per key serves all of its times; as of ingestion, each time has its own.
    const full = new Map<readonly StateEvent[], KeyState>();
    const stateFor = (p: (typeof pairs)[number]): KeyState => {
      const cached = asOfIngestion ? undefined : full.get(p.events);
      if (cached !== undefined) return cached;
      const state = KeyState.empty(groups);
      for (const e of p.events) if (!asOfIngestion || e.cr <= p.t) state.add(e, -Infinity);
      if (!asOfIngestion) full.set(p.events, state);
      return state;
    };
    pairs.forEach((p, i) => {
      const online = stateFor(p).valuesAt(p.t);
      for (const f of spec.features) {
        comparisons++;
        const b = normalize(rows[i]?.[f.name]);
        if (!agree(online[f.name] ?? null, b)) mismatches.push({ key: p.key, at: new Date(p.t / 1000).toISOString(), mode: asOfIngestion ? "as of ingestion" : "all events", feature: f.name, online: online[f.name], batch: b });
      }
    });
  }
  return { view: record.name, version: record.version, keys: sampled.length, comparisons, mismatches: mismatches.length, mismatchRate: comparisons === 0 ? 0 : mismatches.length / comparisons, examples: mismatches.slice(0, 10) };
}

async function sampleEvents(duck: DuckDb, offlineRoot: string, record: ViewVersionRecord, sample: number): Promise<KeyEvents[]> {
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const files = committedFiles(layout, await readCommits(layout));
  if (files.length === 0) return [];
  const spec: FeatureViewSpec = record.spec;
  const keys = spec.joinKeys.map((k) => quoteIdent(k.name));
  const columns = spec.aggregation!.events.map((e) => (valueTypeFromName(e.type)?.scalar === "Timestamp" ? `epoch_us(${quoteIdent(e.name)}) AS ${quoteIdent(e.name)}` : quoteIdent(e.name)));
  const source = `read_parquet(${stringList(files)}, union_by_name = true)`;
  // A deterministic sample of keys (by hash), then all their events in arrival order.
  const rows = await duck.rows(
    `WITH s AS (SELECT DISTINCT ${keys.join(", ")} FROM ${source} ORDER BY hash(${keys.join(", ")}) LIMIT ${Math.max(1, Math.floor(sample))}) ` +
      `SELECT ${keys.map((k) => `e.${k}`).join(", ")}, epoch_us(event_timestamp) AS __ts, epoch_us(created_timestamp) AS __cr, ${columns.join(", ")} FROM ${source} e SEMI JOIN s USING (${keys.join(", ")}) ORDER BY __cr, __ts`,
  );
  const byKey = new Map<string, KeyEvents>();
  for (const row of rows) {
    const key = Object.fromEntries(spec.joinKeys.map((k) => [k.name, normalize(row[k.name])]));
    const id = JSON.stringify(key);
    let entry = byKey.get(id);
    if (entry === undefined) byKey.set(id, (entry = { key, events: [] }));
    const values: Record<string, EventValue> = {};
    for (const e of spec.aggregation!.events) values[e.name] = normalize(row[e.name]) as EventValue;
    entry.events.push({ ts: Number(row.__ts), cr: Number(row.__cr), values });
  }
  return [...byKey.values()];
}

/** Batch and state values in one form: bigints and Dates as numbers (µs for times). */
function normalize(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.getTime() * 1000;
  return value ?? null;
}

function agree(online: unknown, batch: unknown): boolean {
  if (online === null || batch === null) return online === batch;
  if (typeof online === "number" && typeof batch === "number") return online === batch || Math.abs(online - batch) <= 1e-9 * Math.max(Math.abs(online), Math.abs(batch));
  return online === batch;
}
