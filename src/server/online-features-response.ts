import { valueTypeFromName } from "../definitions/value-type.js";
import type { OnlineReadResult } from "../online/read/online-reader.js";
import type { ReadPlan } from "../online/read/read-plan.js";
import { feastTimestamp, rendererFor, renderValue } from "./feast-format.js";

const EPOCH = '"1970-01-01T00:00:00Z"';

/** A join key value as the entity's type: numeric strings become numbers for integer keys (as Feast coerces). */
function keyValue(type: string, value: unknown): unknown {
  return type !== "String" && typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : value;
}

/**
 * Feast's get-online-features response, column-major: `results[i]` holds the values,
 * statuses and event timestamps of `metadata.feature_names[i]`; join keys come first (in the
 * request's order, status PRESENT, epoch timestamps), then features view by view. `extra`
 * fields (the native route's degraded flag, request id, versions) follow `metadata`.
 */
export function onlineFeaturesJson(plan: ReadPlan, entityOrder: readonly string[], entities: Readonly<Record<string, readonly unknown[]>>, result: OnlineReadResult, includeVersions: boolean, extra?: Readonly<Record<string, unknown>>): string {
  const names: string[] = [];
  const columns: string[] = [];
  for (const name of entityOrder) {
    const key = plan.joinKeys.find((k) => k.name === name);
    if (key === undefined) continue;
    const type = valueTypeFromName(key.type)!;
    const values = entities[name]!.map((v) => renderValue(type, keyValue(key.type, v)));
    names.push(name);
    columns.push(`{"values":[${values.join(",")}],"statuses":[${values.map(() => '"PRESENT"').join(",")}],"event_timestamps":[${values.map(() => EPOCH).join(",")}]}`);
  }
  let c = 0;
  for (const view of plan.views) {
    // Every feature of a view shares its row's event time: format the list once per view.
    let times: string | undefined;
    for (const feature of view.features) {
      const column = result.columns[c++]!;
      names.push(feature.output);
      times ??= column.eventTimestamps.map((t) => `"${feastTimestamp(t)}"`).join(",");
      const render = rendererFor(feature.type);
      let values = "";
      let statuses = "";
      for (let i = 0; i < column.values.length; i++) {
        const sep = i === 0 ? "" : ",";
        values += sep + render(column.values[i]);
        statuses += `${sep}"${column.statuses[i]}"`;
      }
      columns.push(`{"values":[${values}],"statuses":[${statuses}],"event_timestamps":[${times}]}`);
    }
  }
  const versions = includeVersions ? `,"feature_view_metadata":${JSON.stringify(plan.views.map((v) => ({ name: v.ref.view, version: v.ref.version })))}` : "";
  const tail = extra === undefined ? "" : `,${JSON.stringify(extra).slice(1, -1)}`;
  return `{"results":[${columns.join(",")}],"metadata":{"feature_names":${JSON.stringify(names)}${versions}}${tail}}`;
}
