import { setTimeout as sleep } from "node:timers/promises";
import type { JetStreamManager, NatsConnection } from "nats";
import { bulkBaseMicros, bulkEventMs, cardEvent } from "./card-activity.js";

/** The benchmarks' JetStream stream of card events, and the subjects it holds (tx.0 to tx.3). */
export const CARD_STREAM = "tx";
export const CARD_SUBJECTS = "tx.*";

const encoder = new TextEncoder();

/** Publishes card event i (of `keys` keys, at `tsMs`) to the card stream. */
export function publishCardEvent(nc: NatsConnection, i: number, keys: number, tsMs: number): void {
  nc.publish(`tx.${i % 4}`, encoder.encode(cardEvent(i, keys, tsMs)));
}

/**
 * Creates the card stream and publishes `total` card events over `keys` keys into it (a bulk
 * stream, see card-activity.ts); resolves once the stream holds them all. Returns how long that
 * took, in seconds.
 */
export async function prefillCardStream(nc: NatsConnection, jsm: JetStreamManager, total: number, keys: number): Promise<number> {
  const baseMicros = bulkBaseMicros();
  await jsm.streams.add({ name: CARD_STREAM, subjects: [CARD_SUBJECTS], max_bytes: 8 * 1024 ** 3 });
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    publishCardEvent(nc, i, keys, bulkEventMs(i, baseMicros));
    if (i % 50_000 === 49_999) await nc.flush();
  }
  await nc.flush();
  while ((await jsm.streams.info(CARD_STREAM)).state.messages < total) await sleep(100);
  return (performance.now() - started) / 1000;
}
