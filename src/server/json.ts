import { HttpError } from "./http-errors.js";

/** Parses a request body as a JSON object, or says precisely why it is not one. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) throw new HttpError(400, "MALFORMED_BODY", "the request body is empty; send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new HttpError(400, "MALFORMED_BODY", `the request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "MALFORMED_BODY", "the request body must be a JSON object");
  return value as Record<string, unknown>;
}

/** JSON text where bigints are written as plain numbers (JSON has no size limit on numbers). */
export function toJsonText(value: unknown): string {
  let bigints = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== "bigint") return v;
    bigints = true;
    return `__bigint__${v.toString()}__`;
  });
  return bigints ? text.replace(/"__bigint__(-?\d+)__"/g, "$1") : text;
}
