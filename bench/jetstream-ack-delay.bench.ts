/**
 * What acknowledging late costs nats-server: a consumer that only takes and acknowledges
 * messages (bench/lib/bare-consumer.ts, the stream processor's transport), paced at --rate
 * messages/s, acknowledges each take --ack-delays ms after it (as a processor that acknowledges
 * after a checkpoint every so many seconds does). nats-server's CPU per message is printed for
 * each delay and as a ratio to the reference measured in the same run: acknowledging at once.
 * The delays take turns, --rounds times, over one pre-filled stream.
 *
 *   npm run bench:jetstream-acks -- [--messages 3000000] [--rate 150000] [--ack-delays 0,1000,2500,5000,10000] [--rounds 2]
 */
import { parseArgs } from "node:util";
import { connect } from "nats";
import { natsServerVersion, startNats } from "../test/helpers/nats-server.js";
import { runBareConsumer, type BareConsumerRun } from "./lib/bare-consumer-run.js";
import { CARD_STREAM, CARD_SUBJECTS, prefillCardStream } from "./lib/prefill-card-stream.js";
import { median } from "./lib/median.js";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "3000000" },
    rate: { type: "string", default: "150000" },
    "ack-delays": { type: "string", default: "0,1000,2500,5000,10000" },
    rounds: { type: "string", default: "2" },
  },
});
const count = Number(args.messages);
const rate = Number(args.rate);
// Acknowledging at once is the reference: always measured, and first.
const delays = [...new Set([0, ...args["ack-delays"].split(",").map(Number)])];
const rounds = Number(args.rounds);

const nats = await startNats();
try {
  const nc = await connect({ servers: nats.url });
  const prefill = await prefillCardStream(nc, await nc.jetstreamManager(), count, 100_000);
  await nc.close();
  console.log(`JetStream acknowledgement delay: ${count.toLocaleString()} messages (pre-filled in ${prefill.toFixed(1)} s), taken at ${rate.toLocaleString()}/s, ${rounds} rounds; nats-server ${natsServerVersion()}\n`);
  const runs = new Map<number, BareConsumerRun[]>(delays.map((d) => [d, []]));
  for (let round = 0; round < rounds; round++) for (const delay of delays) runs.get(delay)!.push(await runBareConsumer(nats, { stream: CARD_STREAM, subject: CARD_SUBJECTS, count, rate, ackDelayMs: delay }));
  const perMessage = (seconds: number): number => (seconds * 1e6) / count;
  const reference = median(runs.get(0)!.map((r) => perMessage(r.natsCpuSeconds)));
  console.log("ack delay   max unacknowledged   nats-server µs/message (runs)   consumer µs/message   rate        vs acknowledging at once");
  for (const [delay, list] of runs) {
    const natsCost = median(list.map((r) => perMessage(r.natsCpuSeconds)));
    const row = [
      `${delay} ms`.padEnd(11),
      String(median(list.map((r) => r.maxUnacked))).padStart(18),
      `${natsCost.toFixed(2)} (${list.map((r) => perMessage(r.natsCpuSeconds).toFixed(2)).join(", ")})`.padStart(32),
      median(list.map((r) => perMessage(r.cpuSeconds))).toFixed(2).padStart(21),
      `${(count / median(list.map((r) => r.seconds)) / 1000).toFixed(1)}k/s`.padStart(11),
      `${(natsCost / reference).toFixed(2)}x`.padStart(27),
    ];
    console.log(row.join(" "));
  }
} finally {
  await nats.stop();
}
