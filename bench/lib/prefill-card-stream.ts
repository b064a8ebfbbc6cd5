import { setTimeout as sleep } from "node:timers/promises";
import type { JetStreamManager, NatsConnection } from "nats";
import { bulkEventMs, cardEvent } from "./card-activity.js";

/**
 * Creates JetStream stream `tx` (subjects tx.*) and publishes `total` card events over `keys`
 * keys into it (a bulk stream of event times from `baseMicros`, see card-activity.ts); resolves
 * once the stream holds them all. Returns how long that took, in seconds.
 */
export async function prefillCardStream(nc: NatsConnection, jsm: JetStreamManager, total: number, keys: number, baseMicros: number): Promise<number> {
  await jsm.streams.add({ name: "tx", subjects: ["tx.*"], max_bytes: 8 * 1024 ** 3 });
  const encoder = new TextEncoder();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    nc.publish(`tx.${i % 4}`, encoder.encode(cardEvent(i, keys, bulkEventMs(i, baseMicros))));
    if (i % 50_000 === 49_999) await nc.flush();
  }
  await nc.flush();
  while ((await jsm.streams.info("tx")).state.messages < total) await sleep(100);
  return (performance.now() - started) / 1000;
}
