import { Agent, request } from "node:http";
import { percentile } from "../../src/util/percentile.js";

export { percentile };

export interface LoadSample {
  readonly status: number;
  readonly ms: number;
  readonly at: number;
  readonly body: string;
}

/**
 * Closed-loop load on one route from this process: `concurrency` requests in flight until
 * `durationMs` passes (bounded in time, loopback only). Returns every response with its latency.
 */
export async function load(url: string, body: string, options: { concurrency: number; durationMs: number }): Promise<LoadSample[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const samples: LoadSample[] = [];
  const until = Date.now() + options.durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => {
          samples.push({ status: res.statusCode ?? 0, ms: performance.now() - started, at: Date.now(), body: text });
          resolve();
        });
      });
      req.on("error", () => {
        samples.push({ status: 0, ms: performance.now() - started, at: Date.now(), body: "" });
        resolve();
      });
      req.end(body);
    });
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (Date.now() < until) await one();
  }));
  agent.destroy();
  return samples;
}

