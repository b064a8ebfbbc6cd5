import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** oha (https://github.com/hatoo/oha), installed by bench/tools/setup.sh; found on PATH or in ~/.cargo/bin. */
export function ohaPath(): string {
  const cargo = join(homedir(), ".cargo", "bin", "oha");
  return existsSync(cargo) ? cargo : "oha";
}

export interface LoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly successRate: number;
  readonly statuses: Readonly<Record<string, number>>;
}

/**
 * POSTs `body` to `url` for `seconds`: closed loop at `concurrency`, or, with `rate`, open loop
 * at that many requests/s with latency correction (a stalled server shows in p99).
 */
export async function oha(url: string, body: string, options: { seconds: number; concurrency: number; rate?: number }): Promise<LoadResult> {
  const bodyFile = join(process.env.TMPDIR ?? "/tmp", `strata-oha-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(bodyFile, body);
  const args = ["-z", `${options.seconds}s`, "-c", String(options.concurrency), "-w", "--no-tui", "-m", "POST", "-T", "application/json", "-D", bodyFile, "--output-format", "json"];
  if (options.rate !== undefined) args.push("-q", String(options.rate), "--latency-correction");
  const { stdout } = await promisify(execFile)(ohaPath(), [...args, url], { maxBuffer: 64 << 20 });
  const report = JSON.parse(stdout) as { summary: { requestsPerSec: number; successRate: number }; latencyPercentiles: Record<string, number>; statusCodeDistribution: Record<string, number> };
  return {
    rps: report.summary.requestsPerSec,
    p50Ms: (report.latencyPercentiles.p50 ?? NaN) * 1000,
    p99Ms: (report.latencyPercentiles.p99 ?? NaN) * 1000,
    successRate: report.summary.successRate,
    statuses: report.statusCodeDistribution,
  };
}
