import type { Entity } from "./entity.js";
import { checkMetadata, checkName, type Problems } from "./problems.js";
import { RESERVED_COLUMNS, type EntitySpec, type JoinKeySpec } from "./specs.js";
import { Int64, isValueType } from "./value-type.js";

const joinKeyTypes = new Set(["Int32", "Int64", "String"]);

export function compileEntity(input: Entity, problems: Problems): EntitySpec {
  checkName(problems, "name", input.name);
  const keyNames = input.joinKeys ?? [input.name];
  if (!Array.isArray(keyNames) || keyNames.length === 0) problems.add("joinKeys", "expected a non-empty list of column names");
  const seen = new Set<string>();
  const joinKeys: JoinKeySpec[] = [];
  const declared = input.valueType;
  const perKey = declared !== undefined && !isValueType(declared) ? declared : undefined;
  for (const [i, key] of (Array.isArray(keyNames) ? keyNames : []).entries()) {
    if (!checkName(problems, `joinKeys[${i}]`, key)) continue;
    if (seen.has(key)) problems.add(`joinKeys[${i}]`, `"${key}" is listed twice`);
    if (RESERVED_COLUMNS.has(key)) problems.add(`joinKeys[${i}]`, `"${key}" is a column the offline store reserves (${[...RESERVED_COLUMNS].join(", ")})`);
    seen.add(key);
    const type: unknown = perKey === undefined ? (declared ?? Int64) : (perKey[key] ?? Int64);
    if (!isValueType(type) || type.isArray || !joinKeyTypes.has(type.scalar)) {
      problems.add(`valueType`, `join key "${key}" must be Int32, Int64 or String, got ${describe(type)}`);
      continue;
    }
    joinKeys.push({ name: key, type: type.name });
  }
  for (const key of Object.keys(perKey ?? {})) {
    if (!seen.has(key)) problems.add(`valueType.${key}`, `"${key}" is not one of the join keys (${[...seen].join(", ")})`);
  }
  return { name: input.name, joinKeys, ...checkMetadata(problems, input) };
}

export function describe(value: unknown): string {
  if (isValueType(value)) return value.name;
  return value === undefined ? "nothing" : JSON.stringify(value) ?? typeof value;
}
