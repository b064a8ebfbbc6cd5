/**
 * What an event-log commit made by a stream processor records as its source: the consumer and
 * the range of stream sequences it holds, so a restarted processor knows where the log ends.
 *
 * @example
 * eventLogLabel("strata_p_tx_v1", 1, 500); // "nats:strata_p_tx_v1:1-500"
 * eventLogUpTo(["nats:strata_p_tx_v1:1-500", "data/tx.parquet"], "strata_p_tx_v1"); // 500
 */
export function eventLogLabel(consumer: string, from: number, to: number): string {
  return `nats:${consumer}:${from}-${to}`;
}

/** The last sequence the event log holds for a consumer, from its commits' sources (0: none). */
export function eventLogUpTo(sources: readonly string[], consumer: string): number {
  const prefix = `nats:${consumer}:`;
  let upTo = 0;
  for (const s of sources) if (s.startsWith(prefix)) upTo = Math.max(upTo, Number(s.slice(prefix.length).split("-")[1] ?? 0));
  return upTo;
}
