import { formatDuration } from "../definitions/duration.js";
import type { AggregateFunction } from "../definitions/specs.js";
import { isNumeric, type ValueType } from "../definitions/value-type.js";

const HOUR = 3600;
export const SECONDS_PER_DAY = 86_400;

/** DESIGN.md's default hop: 5 min for windows up to 12 h, 1 h up to 12 days, 1 day beyond. */
export function defaultHopSeconds(windowSeconds: number): number {
  if (windowSeconds <= 12 * HOUR) return 300;
  if (windowSeconds <= 12 * SECONDS_PER_DAY) return HOUR;
  return SECONDS_PER_DAY;
}

/** `amount_sum_1h`; `count_7d` for a count of events (days, not weeks: "7d" is how windows are written). */
export function aggregateName(column: string | null, fn: AggregateFunction, windowSeconds: number): string {
  return `${column === null ? "" : `${column}_`}${fn}_${formatDuration(windowSeconds, { weeks: false })}`;
}

/** Why `fn` cannot aggregate a column of `type`, or undefined when it can. */
export function unsupported(fn: AggregateFunction, type: ValueType): string | undefined {
  if (type.isArray || type.scalar === "Bytes") return `${fn} cannot aggregate ${type.name} values`;
  if ((fn === "sum" || fn === "mean") && !isNumeric(type)) return `${fn} needs a numeric column, not ${type.name}`;
  if ((fn === "min" || fn === "max") && type.scalar === "Bool") return `${fn} cannot aggregate Bool values`;
  return undefined;
}

/** The output type: count → Int64; sum → Int64 over integers, Float64 over floats; mean → Float64; min, max, last → the column's. */
export function outputTypeName(fn: AggregateFunction, input: ValueType | null): string {
  if (fn === "count" || input === null) return "Int64";
  if (fn === "mean") return "Float64";
  if (fn === "sum") return input.scalar === "Int32" || input.scalar === "Int64" ? "Int64" : "Float64";
  return input.name;
}
