import { fileURLToPath } from "node:url";
import { ensureOk, runMeasured } from "./child-process.js";
import { cpuSeconds } from "./proc-cpu.js";

export interface BareConsumerRun {
  readonly seconds: number;
  /** The consumer process's CPU seconds. */
  readonly cpuSeconds: number;
  /** nats-server's CPU seconds while the consumer ran. */
  readonly natsCpuSeconds: number;
  readonly maxUnacked: number;
}

/**
 * Runs bench/lib/bare-consumer.ts over the first `count` messages of a stream (a new durable
 * each run, so runs do not share a consumer), measuring nats-server's CPU around it.
 *
 * @example
 * const run = await runBareConsumer(nats, { stream: "tx", subject: "tx.*", count: 5_000_000 });
 * console.log(`${5_000_000 / run.seconds} messages/s, nats-server ${run.natsCpuSeconds} s of CPU`);
 */
export async function runBareConsumer(
  server: { readonly url: string; pid(): number | undefined },
  options: { readonly stream: string; readonly subject: string; readonly count: number; readonly rate?: number; readonly ackDelayMs?: number },
): Promise<BareConsumerRun> {
  const natsBefore = cpuSeconds(server.pid()!);
  const script = fileURLToPath(new URL("./bare-consumer.js", import.meta.url));
  const durable = `bench_bare_${Math.random().toString(36).slice(2, 10)}`;
  const flags = ["--url", server.url, "--stream", options.stream, "--subject", options.subject, "--count", String(options.count), "--durable", durable];
  if (options.rate !== undefined) flags.push("--rate", String(options.rate));
  if (options.ackDelayMs !== undefined) flags.push("--ack-delay-ms", String(options.ackDelayMs));
  const result = await runMeasured(process.execPath, [script, ...flags], { timeoutSeconds: 900 });
  ensureOk("the bare consumer", result);
  const report = result.report as { seconds: number; cpuSeconds: number; maxUnacked: number };
  return { ...report, natsCpuSeconds: cpuSeconds(server.pid()!) - natsBefore };
}
