import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64 } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { OnlineService } from "../../src/online/online-service.js";
import { RateLimiter } from "../../src/stream/rate-limiter.js";
import { StreamProcessor, type StreamMessage } from "../../src/stream/stream-processor.js";
import { openProject } from "../helpers/project.js";

const message = (seq: number, body: unknown): StreamMessage => ({ seq, arrivedMicros: Date.now() * 1000, data: typeof body === "string" ? body : JSON.stringify(body) });

/** The stream processor in-process, on the real SQLite durable store: its write-rate limit and its dead letters. */
describe("stream processor", () => {
  let store: FeatureStore;
  let online: OnlineService;
  const appended: number[] = [];
  const processor = async (maxWritesPerSecond: number, consumer: string): Promise<{ processor: StreamProcessor; commits: { at: number; rows: number }[] }> => {
    const commits: { at: number; rows: number }[] = [];
    const writer = Object.create(online.writer) as typeof online.writer;
    writer.commitCheckpoint = async (target, rows, checkpoint, whole) => {
      const n = await online.writer.commitCheckpoint(target, rows, checkpoint, whole);
      commits.push({ at: performance.now(), rows: rows.length });
      return n;
    };
    const p = new StreamProcessor({
      target: await online.target("tx"),
      consumer,
      durable: online.durable,
      writer,
      limiter: new RateLimiter(maxWritesPerSecond),
      appendOffline: (rows) => {
        appended.push(rows.length);
        return Promise.resolve();
      },
      offlineUpTo: 0,
      offlineFlushEvents: 1,
      offlineFlushMs: 0,
    });
    await p.start();
    return { processor: p, commits };
  };

  before(async () => {
    ({ store } = await openProject());
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const tx = aggregationView({ name: "tx", entities: [card], schema: { amount: Float64 }, source: batchSource({ path: "tx.csv", timestampField: "ts" }), aggregations: [{ column: "amount", function: "sum", window: "1h" }], allowedLateness: "1m" });
    await store.apply(compileDefinitions(collectDefinitions({ tx })));
    online = await store.online({ role: "batch" });
  });
  after(() => store.close());

  it("never writes state rows faster than maxWritesPerSecond (a token bucket of one second)", async () => {
    const rate = 400;
    const { processor: p, commits } = await processor(rate, "rate");
    const t = Date.UTC(2024, 0, 1);
    await p.applyBatch(Array.from({ length: 1500 }, (_, i) => message(i + 1, { card_id: i, ts: new Date(t + i).toISOString(), amount: 1 })));
    const started = performance.now();
    await p.flush();
    const rows = commits.reduce((sum, c) => sum + c.rows, 0);
    assert.equal(rows, 1500, "every changed key written");
    let written = 0;
    for (const c of commits) {
      written += c.rows;
      const seconds = (c.at - started) / 1000;
      assert.ok(written <= rate * (seconds + 1) + 1, `${written} rows by ${seconds.toFixed(2)} s exceeds ${rate}/s plus one second's burst`);
    }
    assert.ok((performance.now() - started) / 1000 >= (1500 - rate) / rate - 0.05, "the limit held the flush back");
  });

  it("commits state to the durable store only: a serving process's in-process cache, which other processes' commits never reach, gets none", async () => {
    const serving = await OnlineService.open(store.config, store.registry, { role: "serving" });
    try {
      assert.equal(serving.cache.sharedAcrossProcesses, false, "the embedded default cache");
      const target = await serving.target("tx");
      const p = new StreamProcessor({ target, consumer: "uncached", durable: serving.durable, writer: serving.writer, limiter: new RateLimiter(100_000), appendOffline: () => Promise.resolve(), offlineUpTo: 0, offlineFlushEvents: 1, offlineFlushMs: 0 });
      await p.start();
      await p.applyBatch([message(1, { card_id: 8101, ts: new Date(Date.UTC(2024, 0, 1)).toISOString(), amount: 3 })]);
      await p.flush();
      await serving.populate.drain();
      const [stored] = await serving.durable.readMany(target.ref, ["8101"]);
      assert.ok(stored !== undefined, "the state is in the durable store");
      assert.deepEqual(await serving.cache.getMany([serving.keys.entry(target.ref, "8101")]), [null]);
    } finally {
      await serving.close();
    }
  });

  it("appends the event log alongside state commits, and acknowledges nothing past an append that failed", async () => {
    const target = await online.target("tx");
    let release: () => void = () => undefined;
    const appends: { lines: number; label: string }[] = [];
    let failNext = false;
    const p = new StreamProcessor({
      target,
      consumer: "appends",
      durable: online.durable,
      writer: online.writer,
      limiter: new RateLimiter(100_000),
      appendOffline: (lines, label) => {
        appends.push({ lines: lines.length, label });
        if (failNext) return Promise.reject(new Error("disk full"));
        return new Promise<void>((resolve) => (release = resolve));
      },
      offlineUpTo: 0,
      offlineFlushEvents: 1,
      offlineFlushMs: 0,
    });
    await p.start();
    const at = (minute: number): string => new Date(Date.UTC(2024, 0, 2, 12, minute)).toISOString();
    await p.applyBatch([message(1, { card_id: 9101, ts: at(0), amount: 1 }), message(2, { card_id: 9102, ts: at(1), amount: 2 })]);
    await p.flush(); // commits the state; the append starts and is still running
    assert.deepEqual(appends, [{ lines: 2, label: "nats:appends:1-2" }]);
    assert.equal(p.durableUpTo, 0, "the event log does not hold them yet: nothing may be acknowledged");
    await p.applyBatch([message(3, { card_id: 9101, ts: at(2), amount: 4 })]);
    await p.flush(); // a state commit does not wait for the running append, and starts no second one
    assert.equal((await online.durable.loadCheckpoint("appends"))?.seq, 3);
    assert.equal(appends.length, 1);
    release();
    await new Promise(setImmediate); // the append's completion is seen on a later turn
    await p.flush();
    assert.equal(p.durableUpTo, 2);
    assert.deepEqual(appends.at(-1), { lines: 1, label: "nats:appends:3-3" }, "the next append takes what waited");
    failNext = true;
    release();
    await p.applyBatch([message(4, { card_id: 9102, ts: at(3), amount: 8 })]);
    await assert.rejects(p.flush(true), /disk full/);
    assert.equal(p.durableUpTo, 3, "the failed append's events are not acknowledged");
  });

  it("folds events that arrive while a commit writes: into that commit for a key it has yet to write, else into the next; the position moves once every part has committed; a restart counts none twice", async () => {
    const target = await online.target("tx");
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const parts: string[][] = []; // the keys of each part handed to the store, in order
    const writer = Object.create(online.writer) as typeof online.writer;
    writer.commitCheckpoint = async (t, rows, checkpoint, whole) => {
      parts.push(rows.map((r) => r.entityKey));
      if (parts.length === 1) await hold;
      return online.writer.commitCheckpoint(t, rows, checkpoint, whole);
    };
    const visible: number[] = []; // events reported visible by each commit
    const start = (w: typeof online.writer, offlineUpTo: number): StreamProcessor =>
      new StreamProcessor({ target, consumer: "during", durable: online.durable, writer: w, limiter: new RateLimiter(1e9), appendOffline: () => Promise.resolve(), offlineUpTo, offlineFlushEvents: 1e9, offlineFlushMs: 1e9, onVisible: (lags) => visible.push(lags.length) });
    const p = start(writer, 0);
    await p.start();
    const at = (second: number): string => new Date(Date.UTC(2024, 0, 3, 12, 0, second)).toISOString();
    const base = 20_000; // keys of its own
    // Five thousand keys: three parts of a commit (parts are written in key order).
    const n = 5000;
    const first = Array.from({ length: n }, (_, i) => message(i + 1, { card_id: base + i, ts: at(0), amount: 1 }));
    await p.applyBatch(first);
    const flushing = p.flush();
    for (let turn = 0; turn < 100 && parts.length < 2; turn++) await new Promise(setImmediate);
    assert.equal(parts.length, 2, "the second part goes to the store while the first is still being written");
    const ids = first.map((_, i) => base + i);
    const early = ids.find((id) => parts[0]!.includes(String(id)))!; // in the part being written
    const late = ids.find((id) => !parts.flat().includes(String(id)))!; // in the last part, not yet folded
    assert.ok(early !== undefined && late !== undefined, "the commit has a part not yet folded");
    const fresh = base + 10_000;
    await p.applyBatch([message(n + 1, { card_id: early, ts: at(1), amount: 10 }), message(n + 2, { card_id: late, ts: at(2), amount: 100 }), message(n + 3, { card_id: fresh, ts: at(3), amount: 1000 })]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the second part commits meanwhile
    assert.equal((await online.durable.loadCheckpoint("during"))?.seq ?? 0, 0, "the last part, which moves the position, waits for the first");
    release();
    await flushing;
    const read = async (): Promise<unknown[]> => {
      const { result } = await online.read({ features: ["tx:amount_sum_1h"] }, { card_id: [early, late, fresh] }, Date.UTC(2024, 0, 3, 12, 30));
      return result.columns[0]!.values;
    };
    assert.equal((await online.durable.loadCheckpoint("during"))?.seq, n);
    assert.deepEqual(await read(), [1, 101, null], "the last part took its key's new event; the others wait");
    assert.deepEqual(visible, [n + 1], "the commit reports the events it wrote: its 5000 and the last part's new one");
    assert.equal(p.pendingEvents, 2, "the other two wait for the next commit");
    const [lateState] = await online.durable.readStates(target.ref, [String(late)]);
    assert.equal(lateState?.createdTs, n + 2, "a state past the checkpoint says how far it holds");

    // A crash here, with the event log as far as the checkpoint: a new processor resumes after n and is sent n + 1 to n + 3 again.
    const again = start(online.writer, n);
    assert.equal(await again.start(), n);
    // n + 4 is new: its state is newer than the stored one, so the store's compare-and-set would not hide a second count of n + 2.
    await again.applyBatch([message(n + 1, { card_id: early, ts: at(1), amount: 10 }), message(n + 2, { card_id: late, ts: at(2), amount: 100 }), message(n + 3, { card_id: fresh, ts: at(3), amount: 1000 }), message(n + 4, { card_id: late, ts: at(4), amount: 10_000 })]);
    await again.flush(true);
    assert.deepEqual(await read(), [11, 10_101, 1000], "each event counted once");
    assert.equal((await online.durable.loadCheckpoint("during"))?.seq, n + 4);
  });

  it("fails a commit whose earlier part failed, with the position where it was: the last part is not written", async () => {
    const target = await online.target("tx");
    let calls = 0;
    const writer = Object.create(online.writer) as typeof online.writer;
    writer.commitCheckpoint = async (t, rows, checkpoint, whole) => {
      if (++calls === 2) throw new Error("disk I/O error");
      return online.writer.commitCheckpoint(t, rows, checkpoint, whole);
    };
    const p = new StreamProcessor({ target, consumer: "part-fails", durable: online.durable, writer, limiter: new RateLimiter(1e9), appendOffline: () => Promise.resolve(), offlineUpTo: 0, offlineFlushEvents: 1e9, offlineFlushMs: 1e9 });
    await p.start();
    const at = new Date(Date.UTC(2024, 0, 4, 12)).toISOString();
    await p.applyBatch(Array.from({ length: 5000 }, (_, i) => message(i + 1, { card_id: 30_000 + i, ts: at, amount: 1 }))); // three parts
    await assert.rejects(p.flush(), /disk I\/O error/);
    assert.equal(calls, 2, "the last part, which would move the position, is not written");
    assert.equal((await online.durable.loadCheckpoint("part-fails"))?.seq ?? 0, 0);
    assert.equal(p.durableUpTo, 0, "nothing may be acknowledged");
  });

  it("counts late and malformed events as dead letters, applies the rest, and records the watermark", async () => {
    // Keys of its own: a key's stored state remembers the last sequence applied to it, and sequences are per stream.
    const { processor: p } = await processor(100_000, "letters");
    const at = (minute: number): string => new Date(Date.UTC(2024, 0, 1, 12, minute)).toISOString();
    await p.applyBatch([
      message(1, { card_id: 7001, ts: at(30), amount: 1 }),
      message(2, { card_id: 7001, ts: at(29), amount: 2 }), // within the 1 m lateness
      message(3, { card_id: 7001, ts: at(28), amount: 4 }), // beyond it: the watermark is 12:29
      message(4, "{ not json"),
      message(5, { card_id: "x", ts: at(31), amount: 8 }),
      message(6, { card_id: 7002, ts: at(31) }), // a missing value is a null, not an error
    ]);
    await p.flush(true);
    const saved = await online.durable.loadCheckpoint("letters");
    assert.deepEqual(saved, { seq: 6, watermark: Date.UTC(2024, 0, 1, 12, 30) * 1000, deadLetters: 3 });
    assert.deepEqual([...(await online.durable.deadLetterSeqs("letters", 0, 10))].sort(), [3, 4, 5]);
    const { result } = await online.read({ features: ["tx:amount_sum_1h"] }, { card_id: [7001, 7002] }, Date.UTC(2024, 0, 1, 12, 45));
    assert.deepEqual(result.columns[0]?.values, [3, null]);
  });

  it("seals a key's closed tiles once the head has carried as many, over its writes, as the sealed part holds", async () => {
    const HOP = 5 * 60_000_000;
    const LATENESS = 60_000_000;
    /**
     * The schedule the rule gives, from the tiles alone: per commit, the key's tiles (kept while
     * any 1-hour window at or after the watermark reads them), those closed since the last seal,
     * and whether they are sealed now.
     */
    const expectedSeals = (commits: number[][]): boolean[] => {
      const starts = new Set<number>();
      let split = -Infinity;
      let sealedCount = 0;
      let debt = 0;
      let maxTs = -Infinity;
      return commits.map((times) => {
        for (const ts of times) starts.add(ts - (ts % HOP));
        maxTs = Math.max(maxTs, ...times);
        const watermark = maxTs - LATENESS;
        for (const start of starts) if (start < watermark - (watermark % HOP) - 3_600_000_000) starts.delete(start);
        const fresh = [...starts].filter((start) => start + HOP <= watermark && start + HOP > split).length;
        debt += fresh;
        if (fresh === 0 || debt < sealedCount) return false;
        debt = 0;
        split = watermark;
        sealedCount = [...starts].filter((start) => start + HOP <= split).length;
        return true;
      });
    };
    const base = Date.UTC(2024, 2, 1) * 1000;
    // Replayed from far behind: several tiles close at each commit. Live: one closes every five commits.
    const schedules = {
      replay: Array.from({ length: 30 }, (_, c) => [0, 1, 2].map((j) => base + (3 * c + j) * HOP + 7_000_000)),
      live: Array.from({ length: 60 }, (_, c) => [base + c * 60_000_000 + 3_000_000]),
    };
    for (const [name, commits] of Object.entries(schedules)) {
      const { processor: p, commits: written } = await processor(1e6, `seals-${name}`);
      const sealedAt: boolean[] = [];
      const writer = (p as unknown as { deps: { writer: typeof online.writer } }).deps.writer;
      const commit = writer.commitCheckpoint.bind(writer);
      writer.commitCheckpoint = async (target, rows, checkpoint, whole) => {
        sealedAt.push(rows.some((r) => r.sealed !== undefined));
        return commit(target, rows, checkpoint, whole);
      };
      let seq = 0;
      for (const times of commits) {
        await p.applyBatch(times.map((ts) => message(++seq, { card_id: name === "replay" ? 8001 : 8002, ts: new Date(ts / 1000).toISOString(), amount: 1 })));
        await p.flush();
      }
      assert.equal(written.length, commits.length);
      const expected = expectedSeals(commits);
      assert.deepEqual(sealedAt, expected, `${name}: commits that sealed`);
      assert.ok(expected.filter(Boolean).length >= 3, `${name}: the schedule seals several times`);
    }
  });
});

