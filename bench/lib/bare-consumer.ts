/**
 * A consumer that only takes messages off a JetStream stream and acknowledges them, with the
 * transport `strata stream run` uses (a durable pull consumer, cumulative acks, the same window):
 * the streaming benchmark's reference, what any processor on this machine and transport could
 * reach at most. Run in its own process, so its CPU is counted as a processor's is. Optionally
 * paced (--rate, messages/s) and acknowledging --ack-delay-ms after taking, as a processor that
 * acknowledges after a checkpoint does. Once it has taken --count messages, prints
 * {"seconds", "cpuSeconds", "maxUnacked"}.
 *
 *   node dist/bench/lib/bare-consumer.js --url nats://127.0.0.1:4222 --stream tx --subject 'tx.*' --count 5000000 [--rate 150000] [--ack-delay-ms 5000] [--durable name]
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "nats";
import { JetStreamFeed } from "../../src/stream/jetstream-feed.js";
import { WINDOW_BATCHES } from "../../src/stream/nats-runner.js";
import { projectConfigSchema } from "../../src/config/project-config.js";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    stream: { type: "string" },
    subject: { type: "string" },
    count: { type: "string" },
    rate: { type: "string", default: "0" },
    "ack-delay-ms": { type: "string", default: "0" },
    durable: { type: "string", default: "bench_bare_consumer" },
  },
});
const { url, stream, subject, durable } = args;
const count = Number(args.count);
const rate = Number(args.rate);
const ackDelayMs = Number(args["ack-delay-ms"]);
if (url === undefined || stream === undefined || subject === undefined || !(count > 0)) throw new Error("bare-consumer needs --url, --stream, --subject and --count");
// As `strata stream run` with the default settings.
const { batchSize, maxAckPending } = projectConfigSchema.shape.stream.parse(undefined);

const nc = await connect({ servers: url });
const jsm = await nc.jetstreamManager();
const feed = new JetStreamFeed(jsm, { url, stream, durable, filterSubject: subject, maxAckPending, window: WINDOW_BATCHES * batchSize });
const started = performance.now();
await feed.open(0);
let taken = 0;
let maxUnacked = 0;
/** When each take happened and its last sequence: acknowledged once --ack-delay-ms has passed. */
const takes: [at: number, seq: number][] = [];
while (taken < count) {
  if (rate > 0) {
    const ahead = started + (taken / rate) * 1000 - performance.now();
    if (ahead > 1) await sleep(ahead);
  }
  const messages = feed.take();
  if (messages.length === 0) await feed.arrival(5);
  else {
    taken += messages.length;
    takes.push([performance.now(), messages.at(-1)!.seq]);
  }
  while (takes.length > 0 && takes[0]![0] <= performance.now() - ackDelayMs) feed.ackUpTo(takes.shift()![1]);
  maxUnacked = Math.max(maxUnacked, feed.unackedCount);
  await new Promise(setImmediate); // let the socket be read, as the processor does between batches
}
const seconds = (performance.now() - started) / 1000;
for (const [, seq] of takes) feed.ackUpTo(seq);
const cpu = process.cpuUsage();
console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxUnacked }));
feed.close();
await jsm.consumers.delete(stream, durable); // an idle consumer left behind would still be the server's to track
await nc.close();
