import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64 } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import { decodeEntry } from "../../src/online/cache/cache-entry.js";
import { CacheKeys } from "../../src/online/cache/cache-keys.js";
import { EntryLifetime } from "../../src/online/cache/entry-lifetime.js";
import type { OnlineService } from "../../src/online/online-service.js";
import { makeProject } from "../helpers/project.js";
import { randomKeyPrefix, useRedis } from "../helpers/redis-server.js";

/** A cache fill carrying an older record never leaves it in the cache over a newer write (Redis, Lua compare-and-set). */
describe("a populate racing a newer write", () => {
  const redis = useRedis();
  let store: FeatureStore;
  let online: OnlineService;
  let keys: CacheKeys;
  const ref = { view: "stats", version: 1 };
  const prefix = randomKeyPrefix("r");

  before(async () => {
    const dir = await makeProject({ config: { online: { type: "sqlite", cache: { type: "redis", url: redis.url(), keyPrefix: prefix } } } });
    store = await FeatureStore.open(dir);
    const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
    await store.apply(compileDefinitions(collectDefinitions({ v: featureView({ name: "stats", entities: [driver], schema: { value: Float64 }, source: batchSource({ path: "s.parquet", timestampField: "ts" }) }) })));
    online = await store.online();
    keys = new CacheKeys(prefix, store.config.project);
  });
  after(() => store.close());

  const write = async (id: number, value: number, at: number): Promise<void> => {
    await online.writer.write(await online.target("stats"), [{ driver_id: id, ts: new Date(at).toISOString(), value }], "ts");
  };
  const cached = async (id: number): Promise<unknown> => {
    const [text] = await online.cache.getMany([keys.entry(ref, String(id))]);
    const record = text === null || text === undefined ? undefined : decodeEntry(text, String(id))?.record;
    return record === null || record === undefined ? record : (JSON.parse(record.values) as { value: number }).value;
  };

  it("refuses a fill with an older record after the newer write was populated", async () => {
    await write(1, 1, Date.now() - 1000);
    const [older] = await online.durable.readMany(ref, ["1"]); // a reader's durable read, before the write below
    await write(1, 2, Date.now());
    await online.populate.drain();
    online.populate.enqueue([new EntryLifetime(300).populate(keys.entry(ref, "1"), older!)]); // ...whose fill lands late
    await online.populate.drain();
    assert.equal(await cached(1), 2);
  });

  it("ends with the newest value whatever the interleaving of reads (fills) and writes", async () => {
    for (let id = 100; id < 160; id++) {
      await write(id, 1, Date.now() - 1000);
      await online.populate.drain();
      await online.cache.delete([keys.entry(ref, String(id))]); // the next read misses and fills
      await Promise.all([
        (async () => {
          await sleep(Math.random() * 2);
          await online.read({ features: ["stats:value"] }, { driver_id: [id] });
        })(),
        (async () => {
          await sleep(Math.random() * 2);
          await write(id, 2, Date.now());
        })(),
      ]);
      await online.populate.drain();
      assert.equal(await cached(id), 2, `driver ${id}`);
    }
  });
});
