import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeFile, readFile } from "node:fs/promises";
import { cliJson, runCli } from "../helpers/cli.js";
import { startServerProcess, type CliProcess } from "../helpers/server-process.js";
import { tempDir } from "../helpers/temp-dir.js";

/**
 * `strata token` and `server.requireTokens` end to end: a real `strata serve` over HTTP refuses
 * requests without a token (401, JSON) and outside its scopes (403), and serves within them.
 */
describe("strata token create/list/revoke with strata serve", () => {
  let dir: string;
  let server: CliProcess | undefined;
  let reader: string;

  before(async () => {
    dir = join(await tempDir(), "secured");
    assert.equal((await runCli(["init", dir])).code, 0);
    const config = join(dir, "strata.yaml");
    await writeFile(config, `${await readFile(config, "utf8")}\nserver: { requireTokens: true }\n`);
    for (const args of [["apply"], ["ingest", "driver_hourly_stats"], ["materialize", "--end", "2030-01-01T00:00:00Z"]]) assert.equal((await runCli(["-C", dir, ...args, "--json"])).code, 0);
    reader = (await cliJson<{ token: string }>(["-C", dir, "token", "create", "reader", "--scope", "read:driver_*"])).token;
    await cliJson(["-C", dir, "token", "create", "other", "--scope", "read:other_view", "--quota", "50"]);
    server = await startServerProcess(dir);
  });
  after(() => server?.stop());

  const read = (token?: string): Promise<Response> =>
    fetch(`${server!.url}/v1/online-features`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: [1001] } }),
    });

  it("serves a token within its scopes, 401 without one, 403 outside them; /health stays open", async () => {
    assert.equal((await fetch(`${server!.url}/health`)).status, 200);
    const anonymous = await read();
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, "UNAUTHENTICATED");
    const ok = await read(reader);
    assert.equal(ok.status, 200);
    assert.notEqual(((await ok.json()) as { results: { statuses: string[] }[] }).results[1]?.statuses[0], "NOT_FOUND", "the materialized record was read (the sample data is older than the view's ttl)");
    const list = await cliJson<{ name: string; scopes: string[]; quotaPerSecond: number | null; hash?: string }[]>(["-C", dir, "token", "list"]);
    assert.deepEqual(list.map((t) => [t.name, t.scopes, t.quotaPerSecond, t.hash]), [["other", ["read:other_view"], 50, undefined], ["reader", ["read:driver_*"], null, undefined]]);
    const metrics = await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${reader}` } });
    assert.equal(metrics.status, 403, "metrics are for admin tokens");
  });

  it("refuses a revoked token (after the registry refresh) and says so for an unknown name", async () => {
    assert.equal((await runCli(["-C", dir, "token", "revoke", "reader"])).code, 0);
    const unknown = await runCli(["-C", dir, "token", "revoke", "nobody"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /live token "nobody" not found/);
    const deadline = Date.now() + 15_000; // server.registryRefreshSeconds is 10
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await read(reader)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 401);
  });
});
