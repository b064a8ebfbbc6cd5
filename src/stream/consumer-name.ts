import type { ViewVersionRecord } from "../registry/registry-records.js";

/**
 * The durable JetStream consumer of one view version, which also names its checkpoint and dead
 * letters (NATS names allow letters, digits, _ and -).
 *
 * @example
 * consumerName("shop", record); // "strata_shop_card_activity_v2"
 */
export const consumerName = (project: string, record: ViewVersionRecord): string => `strata_${project}_${record.name}_v${record.version}`.replace(/[^A-Za-z0-9_-]/g, "_");
