import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type FeatureViewSpec } from "../../definitions/specs.js";
import { valueTypeFromName } from "../../definitions/value-type.js";
import { quoteIdent, stringList, timestampLiteral } from "../../util/sql.js";

/**
 * The latest row per entity among a view's offline rows with start <= event_timestamp < end
 * (greatest event time, then created time), ordered by join keys so a run can resume by
 * offset. Timestamps come out as epoch µs so nothing is rounded on the way to the online store.
 * Pure: compiled here, executed by materialize.ts.
 */
export function compileLatestPerEntity(spec: FeatureViewSpec, files: readonly string[], range: { start: number; end: number }, offset: number): string {
  const keys = spec.joinKeys.map((k) => quoteIdent(k.name));
  const order = `(epoch_us(${EVENT_TIMESTAMP})::HUGEINT * 18446744073709551616 + (epoch_us(${CREATED_TIMESTAMP})::HUGEINT + 9223372036854775808))`;
  const fields = [
    `event_us := epoch_us(${EVENT_TIMESTAMP})`,
    `created_us := epoch_us(${CREATED_TIMESTAMP})`,
    ...spec.features.map((f, i) => `f${i} := ${valueTypeFromName(f.type)?.scalar === "Timestamp" && valueTypeFromName(f.type)?.isArray === false ? `epoch_us(${quoteIdent(f.name)})` : quoteIdent(f.name)}`),
  ];
  const where = `${EVENT_TIMESTAMP} >= ${timestampLiteral(BigInt(range.start))} AND ${EVENT_TIMESTAMP} < ${timestampLiteral(BigInt(range.end))}`;
  return (
    `SELECT ${keys.join(", ")}, arg_max(struct_pack(${fields.join(", ")}), ${order}) AS latest ` +
    `FROM read_parquet(${stringList(files)}, union_by_name = true) WHERE ${where} GROUP BY ${keys.join(", ")} ORDER BY ${keys.join(", ")}` +
    (offset > 0 ? ` OFFSET ${offset}` : "")
  );
}
