import { InvalidRequestError } from "../errors.js";

/**
 * A reference to one feature, as Feast writes it: "view:feature", optionally pinned to a
 * view version with "view@v2:feature". Without a version, the latest version is meant.
 *
 * @example
 * parseFeatureRef("driver_hourly_stats@v1:conv_rate"); // { view: "driver_hourly_stats", version: 1, feature: "conv_rate" }
 */
export interface FeatureRef {
  readonly view: string;
  readonly version: number | null;
  readonly feature: string;
}

const refPattern = /^([A-Za-z_][A-Za-z0-9_]*)(?:@v(\d+))?:([A-Za-z_][A-Za-z0-9_]*)$/;

export function parseFeatureRef(text: string): FeatureRef {
  const match = refPattern.exec(text.trim());
  if (match === null) throw new InvalidRequestError(`bad feature reference "${text}": expected "view:feature" or "view@v2:feature"`);
  return { view: match[1]!, version: match[2] === undefined ? null : Number(match[2]), feature: match[3]! };
}

/** Feast's full feature name: `view__feature`. */
export function fullFeatureName(view: string, feature: string): string {
  return `${view}__${feature}`;
}
