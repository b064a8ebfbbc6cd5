import type { Authorize } from "../../access/access-control.js";
import { storedView } from "../../aggregation/stored-view.js";
import type { FeatureViewSpec } from "../../definitions/specs.js";
import { InvalidRequestError, NotFoundError } from "../../errors.js";
import type { EventPublisher } from "../../stream/event-publisher.js";
import type { IngestReport } from "../../offline/ingest.js";
import type { OnlineService } from "../../online/online-service.js";
import { latestVersion, viewNames, type ViewVersionRecord } from "../../registry/registry-records.js";
import type { AppRequest, AppResponse } from "../app.js";
import { feastErrorResponse } from "../feast-errors.js";
import { parseJsonObject } from "../json.js";

/** Appends rows to a view version's offline data (pushes with `to: offline`). */
export type OfflineIngest = (record: ViewVersionRecord, rows: readonly Record<string, unknown>[], timestampField: string) => Promise<IngestReport>;

/** Feast's `df`: column name → list of values, all lists the same length; as rows. */
export function dfRows(df: unknown, maxRows: number): Record<string, unknown>[] {
  if (typeof df !== "object" || df === null || Array.isArray(df)) throw new InvalidRequestError('"df" must be an object of column name → list of values');
  const columns = Object.entries(df as Record<string, unknown>);
  let length: number | undefined;
  for (const [name, values] of columns) {
    if (!Array.isArray(values)) throw new InvalidRequestError(`"df.${name}" must be a list of values`);
    if (length !== undefined && values.length !== length) throw new InvalidRequestError(`"df" columns differ in length ("${name}" has ${values.length} values, expected ${length})`);
    length = values.length;
  }
  if ((length ?? 0) > maxRows) throw new InvalidRequestError(`"df" has ${length} rows; at most ${maxRows} per request (server.maxEntities)`);
  return Array.from({ length: length ?? 0 }, (_, i) => Object.fromEntries(columns.map(([name, values]) => [name, (values as unknown[])[i]])));
}

/** Every column a written row must carry: join keys, the event timestamp and each feature (Feast refuses missing ones too). */
function requireColumns(record: { readonly spec: FeatureViewSpec }, rows: readonly Record<string, unknown>[], timestampField: string): void {
  const present = new Set(Object.keys(rows[0] ?? {}));
  const needed = [...record.spec.joinKeys.map((k) => k.name), timestampField, ...storedView(record.spec).features.map((f) => f.name)];
  const missing = needed.filter((c) => !present.has(c));
  if (rows.length > 0 && missing.length > 0) throw new InvalidRequestError(`"df" lacks column ${missing.map((m) => `"${m}"`).join(", ")} of feature view "${record.spec.name}"`);
}

const timestampFieldOf = (record: { readonly spec: FeatureViewSpec }, rows: readonly Record<string, unknown>[]): string =>
  rows[0] !== undefined && record.spec.source.timestampField in rows[0] ? record.spec.source.timestampField : "event_timestamp";

/**
 * `POST /push`: rows for every view whose source is the named push source; to the online store,
 * the offline store, or both. For an aggregation view the rows are events: "online" publishes
 * them to its stream (the stream processor applies them and appends them to the event log);
 * "offline" appends them to the event log directly.
 */
export function push(online: OnlineService, offline: OfflineIngest, maxRows: number, authorize: Authorize, publish?: EventPublisher) {
  return async (request: AppRequest): Promise<AppResponse> => {
    try {
      const body = parseJsonObject(request.body);
      if (typeof body.push_source_name !== "string") throw new InvalidRequestError('"push_source_name" must be a string');
      const to = body.to ?? "online";
      if (to !== "online" && to !== "offline" && to !== "online_and_offline") throw new InvalidRequestError(`"to" must be online, offline or online_and_offline, got ${JSON.stringify(to)}`);
      const rows = dfRows(body.df, maxRows);
      const snapshot = await online.registrySnapshot();
      const views = viewNames(snapshot).map((n) => latestVersion(snapshot, n)!).filter((v) => v.spec.pushSource === body.push_source_name);
      if (views.length === 0) throw new NotFoundError("push source", body.push_source_name, "no feature view reads from it");
      authorize(request, "write", views.map((v) => v.name));
      for (const record of views) {
        const ts = timestampFieldOf(record, rows);
        requireColumns(record, rows, ts);
        const nats = record.spec.aggregation?.nats;
        if (nats !== undefined && to !== "offline") {
          if (nats === null || publish === undefined) throw new InvalidRequestError(`aggregation view "${record.name}" takes pushed events from its stream: give it a streamSource and configure stream.nats.url`);
          if (to === "online_and_offline") throw new InvalidRequestError('an aggregation view\'s pushed events reach its event log through the stream: push with "to": "online"');
          await publish(nats, rows.map((r) => ({ ...r, [record.spec.source.timestampField]: r[ts] })));
          continue;
        }
        if (to !== "offline") await online.writer.write({ ref: { view: record.name, version: record.version }, spec: record.spec }, rows, ts);
        if (to !== "online") await offline(record, rows, ts);
      }
      return { status: 200, body: "", contentType: "application/json" };
    } catch (error) {
      return feastErrorResponse(error);
    }
  };
}

/** `POST /write-to-online-store`: rows for one feature view, straight to the online store. */
export function writeToOnlineStore(online: OnlineService, maxRows: number, authorize: Authorize) {
  return async (request: AppRequest): Promise<AppResponse> => {
    try {
      const body = parseJsonObject(request.body);
      if (typeof body.feature_view_name !== "string") throw new InvalidRequestError('"feature_view_name" must be a string');
      const target = await online.target(body.feature_view_name);
      authorize(request, "write", [target.ref.view]);
      const rows = dfRows(body.df, maxRows);
      if (target.spec.aggregation !== undefined) throw new InvalidRequestError(`"${body.feature_view_name}" is an aggregation view: its online state comes from its events (POST /push to its stream source)`);
      const ts = timestampFieldOf(target, rows);
      requireColumns(target, rows, ts);
      await online.writer.write(target, rows, ts);
      return { status: 200, body: "null", contentType: "application/json" };
    } catch (error) {
      return feastErrorResponse(error);
    }
  };
}
