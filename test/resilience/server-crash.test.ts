import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64 } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";
import { makeProject } from "../helpers/project.js";
import { startServerProcess } from "../helpers/server-process.js";

/** POSTs JSON; resolves with the status, or 0 if the connection failed. */
function post(agent: Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

/**
 * kill -9 of the feature server while clients write: every write it acknowledged (200) is in
 * the durable store afterwards, and a restarted server serves it.
 */
describe("server killed during writes", () => {
  const postgres = usePostgres();

  for (const durable of ["sqlite", "postgres"] as const) {
    it(`loses no acknowledged write (${durable} durable store)`, async () => {
      const online = durable === "sqlite" ? { type: "sqlite" } : { type: "postgres", url: postgres.url(), schema: randomSchemaName() };
      const dir = await makeProject({ config: { online } });
      const setup = await FeatureStore.open(dir);
      const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
      await setup.apply(compileDefinitions(collectDefinitions({ v: featureView({ name: "stats", entities: [driver], schema: { value: Float64 }, source: batchSource({ path: "s.parquet", timestampField: "ts" }) }) })));
      await setup.close();

      const server = await startServerProcess(dir);
      const agent = new Agent({ keepAlive: true });
      const acknowledged: number[] = [];
      let next = 0;
      let killed = false;
      const writer = async (): Promise<void> => {
        while (!killed) {
          const id = next++;
          const body = JSON.stringify({ feature_view_name: "stats", df: { driver_id: [id], ts: [new Date().toISOString()], value: [id + 0.5] } });
          if ((await post(agent, `${server.url}/write-to-online-store`, body)) === 200) acknowledged.push(id);
        }
      };
      const writers = Array.from({ length: 4 }, writer);
      await sleep(1200);
      await server.kill();
      killed = true;
      await Promise.all(writers);
      agent.destroy();
      assert.ok(acknowledged.length > 50, `${acknowledged.length} writes acknowledged before the kill`);

      const after = await FeatureStore.open(dir);
      try {
        const store = (await after.online()).durable;
        const records = await store.readMany({ view: "stats", version: 1 }, acknowledged.map(String));
        const lost = acknowledged.filter((_, i) => records[i] === undefined);
        assert.deepEqual(lost, [], "every acknowledged write is in the durable store");
        assert.ok(records.every((r, i) => (JSON.parse(r!.values) as { value: number }).value === acknowledged[i]! + 0.5));
      } finally {
        await after.close();
      }
      const restarted = await startServerProcess(dir);
      try {
        const last = acknowledged.at(-1)!;
        const response = await fetch(`${restarted.url}/get-online-features`, { method: "POST", body: JSON.stringify({ features: ["stats:value"], entities: { driver_id: [last] } }) });
        const json = (await response.json()) as { results: { values: unknown[] }[] };
        assert.deepEqual(json.results[1]?.values, [last + 0.5]);
      } finally {
        await restarted.stop();
      }
    });
  }
});
