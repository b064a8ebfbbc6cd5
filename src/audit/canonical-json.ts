/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, undefined members
 * dropped; so one value has one text, and the text's hash identifies it.
 *
 * @example
 * canonicalJson({ b: [2, { d: 1, c: null }], a: "x" }); // '{"a":"x","b":[2,{"c":null,"d":1}]}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError(`canonical JSON has no ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
