import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { AckPolicy, connect, headers, type JetStreamManager, type NatsConnection } from "nats";
import { NatsInboxSocket, type InboxFrame, type InboxHandlers } from "../../src/stream/nats-inbox-socket.js";
import { JetStreamFeed, type Delivered } from "../../src/stream/jetstream-feed.js";
import { startNats, type NatsServer } from "../helpers/nats-server.js";
import { setTimeout as sleep } from "node:timers/promises";

/** Collects what an inbox socket hands over. */
function recorder(): InboxHandlers & { messages: { reply: string | undefined; data: string }[]; statuses: { code: number; headers: string }[]; closedWith: string[] } {
  const r = {
    messages: [] as { reply: string | undefined; data: string }[],
    statuses: [] as { code: number; headers: string }[],
    closedWith: [] as string[],
    message: (f: InboxFrame) =>
      void r.messages.push({ reply: f.replyEnd > f.replyStart ? f.bytes.toString("latin1", f.replyStart, f.replyEnd) : undefined, data: f.bytes.toString("utf8", f.dataStart, f.dataEnd) }),
    status: (code: number, text: string) => void r.statuses.push({ code, headers: text }),
    closed: (reason: string) => void r.closedWith.push(reason),
  };
  return r;
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("NATS inbox socket and pull feed (real nats-server)", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it("hands over each message's exact bytes and reply subject, with or without headers, whatever the chunking", async () => {
    const seen = recorder();
    const inbox = `_INBOX.t${Math.random().toString(36).slice(2)}`;
    const conn = await NatsInboxSocket.open(nats.url, inbox, seen);
    const big = "é".repeat(150_000); // spans many socket reads; multi-byte
    const h = headers();
    h.set("Nats-Msg-Id", "m1");
    const sent: { reply: string | undefined; data: string }[] = [
      { reply: undefined, data: "plain" },
      { reply: "reply.to.me", data: "with\r\nCRLF inside\r\n" },
      { reply: undefined, data: "" },
      { reply: "r2", data: big },
      { reply: "r3", data: "after headers" },
    ];
    for (const [i, m] of sent.entries()) nc.publish(inbox, new TextEncoder().encode(m.data), { reply: m.reply, headers: i === 4 ? h : undefined });
    for (let i = 0; i < 2000; i++) nc.publish(inbox, new TextEncoder().encode(`{"i":${i}}`), { reply: `reply.${i}` });
    await nc.flush();
    await until(() => seen.messages.length === sent.length + 2000, "all messages");
    assert.deepEqual(seen.messages.slice(0, sent.length), sent);
    assert.deepEqual(seen.messages.at(-1), { reply: "reply.1999", data: '{"i":1999}' });
    assert.deepEqual(seen.statuses, []);
    conn.close();
    assert.deepEqual(seen.closedWith, ["closed"]);
  });

  it("reports a pull request that expires as a 408 status with the messages it left undelivered", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "expiry", subjects: ["expiry.*"] });
    await jsm.consumers.add("expiry", { durable_name: "c", ack_policy: AckPolicy.All });
    const seen = recorder();
    const inbox = `_INBOX.t${Math.random().toString(36).slice(2)}`;
    const conn = await NatsInboxSocket.open(nats.url, inbox, seen);
    conn.publish("$JS.API.CONSUMER.MSG.NEXT.expiry.c", JSON.stringify({ batch: 7, expires: 200e6 }), inbox);
    await until(() => seen.statuses.length === 1, "the status");
    assert.equal(seen.statuses[0]!.code, 408);
    assert.match(seen.statuses[0]!.headers, /Nats-Pending-Messages: 7\r\n/);
    conn.close();
  });

  it("tells when the server goes away, and refuses to open where no server listens", async () => {
    const other = await startNats();
    const seen = recorder();
    await NatsInboxSocket.open(other.url, "_INBOX.gone", seen);
    await other.stop();
    await until(() => seen.closedWith.length === 1, "the close");
    await assert.rejects(NatsInboxSocket.open(other.url, "_INBOX.gone", recorder()), /ECONNREFUSED/);
  });

  it("rejects an opening the server refuses, without reporting a close to the handlers", async () => {
    const refusing = createServer((socket) => socket.end("INFO {}\r\n-ERR 'Authorization Violation'\r\n"));
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    const seen = recorder();
    try {
      await assert.rejects(NatsInboxSocket.open(`nats://127.0.0.1:${(refusing.address() as AddressInfo).port}`, "_INBOX.refused", seen), /the server refused: 'Authorization Violation'/);
      assert.deepEqual(seen.closedWith, [], "a failed opening is open()'s rejection, not a close of an open feed");
    } finally {
      refusing.close();
    }
  });

  it("a pull feed asks again once its pull requests expired, though NATS never said so", async () => {
    // nats-server 2.9 sometimes ends a request that got part of its batch without the 408 that
    // says so (seen under load in the test below); this server never answers a pull request at all.
    const pulls: number[] = [];
    const silent = createServer((socket) => {
      socket.write("INFO {}\r\n");
      socket.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString("latin1").split("\r\n")) {
          if (line === "PING") socket.write("PONG\r\n");
          if (line.startsWith("PUB $JS.API.CONSUMER.MSG.NEXT.")) pulls.push(performance.now());
        }
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const consumers = { delete: () => Promise.resolve(true), add: () => Promise.resolve({}) };
    const streams = { info: () => Promise.resolve({ config: { subjects: ["s.*"] } }) };
    const jsm = { consumers, streams } as unknown as JetStreamManager;
    const feed = new JetStreamFeed(jsm, { url: `nats://127.0.0.1:${(silent.address() as AddressInfo).port}`, stream: "s", durable: "d", filterSubject: "s.*", maxAckPending: 1000, window: 40, pullExpiresMs: 100 });
    try {
      await feed.open(0);
      await until(() => pulls.length === 1, "the first pull request");
      // The processor's loop: take (nothing), wait a little, take again.
      await until(() => (feed.take(), pulls.length >= 2), "a pull request after the first one expired");
      const gap = pulls[1]! - pulls[0]!;
      assert.ok(gap >= 100, `asked again after ${gap.toFixed(0)} ms, before the first request could have expired`);
      assert.ok(gap < 2000, `asked again only after ${gap.toFixed(0)} ms`);
    } finally {
      feed.close();
      silent.close();
    }
  });

  it("a pull feed keeps delivering after its pull requests expired while the stream was idle", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "idle", subjects: ["idle.*"] });
    const feed = new JetStreamFeed(jsm, { url: nats.url, stream: "idle", durable: "d", filterSubject: "idle.*", maxAckPending: 1000, window: 40, pullExpiresMs: 100 });
    const taken: Delivered[] = [];
    const publish = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await nc.jetstream().publish("idle.x", new TextEncoder().encode(String(i)));
    };
    await publish(0, 100); // more than the window: several pull requests
    await feed.open(0);
    await until(() => (taken.push(...feed.take()), taken.length === 100), "the first messages");
    feed.ackUpTo(100);
    await sleep(500); // several expiries
    await publish(100, 130);
    await until(() => (taken.push(...feed.take()), taken.length === 130), "messages after the expiries");
    assert.deepEqual(taken.map((d) => d.seq), Array.from({ length: 130 }, (_, i) => i + 1));
    assert.deepEqual(taken.map((d) => d.data), Array.from({ length: 130 }, (_, i) => String(i)));
    assert.equal(feed.broken, false);
    feed.close();
  });

  it("a pull feed leaves out a filter that is the stream's one subject, and keeps a narrower one", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "filters", subjects: ["filters.*"] });
    for (const subject of ["filters.a", "filters.b", "filters.a", "filters.c"]) await nc.jetstream().publish(subject, new TextEncoder().encode(subject));
    const delivered = async (durable: string, filterSubject: string): Promise<{ filter: string | undefined; data: string[] }> => {
      const feed = new JetStreamFeed(jsm, { url: nats.url, stream: "filters", durable, filterSubject, maxAckPending: 1000, window: 40 });
      await feed.open(0);
      const taken: Delivered[] = [];
      await until(() => (taken.push(...feed.take()), taken.length > 0 && feed.pending === 0), `the messages of ${filterSubject}`);
      feed.close();
      const filter = (await jsm.consumers.info("filters", durable)).config.filter_subject;
      return { filter: filter === "" ? undefined : filter, data: taken.map((d) => d.data) };
    };
    assert.deepEqual(await delivered("whole", "filters.*"), { filter: undefined, data: ["filters.a", "filters.b", "filters.a", "filters.c"] });
    assert.deepEqual(await delivered("narrow", "filters.a"), { filter: "filters.a", data: ["filters.a", "filters.a"] });
  });

  it("a waiting caller wakes when a message arrives, not at the end of its wait", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "wake", subjects: ["wake.*"] });
    const feed = new JetStreamFeed(jsm, { url: nats.url, stream: "wake", durable: "w", filterSubject: "wake.*", maxAckPending: 1000, window: 40 });
    await feed.open(0);
    let started = performance.now();
    await feed.arrival(150);
    assert.ok(performance.now() - started >= 140, "nothing arrived: the whole wait");
    started = performance.now();
    const waiting = feed.arrival(5000);
    await nc.jetstream().publish("wake.x", new TextEncoder().encode("hi"));
    await waiting;
    assert.ok(performance.now() - started < 2000, `woken by the message after ${(performance.now() - started).toFixed(0)} ms`);
    assert.deepEqual(feed.take().map((d) => d.data), ["hi"]);
    // An earlier wait ending by its timeout leaves a later one's wake-up in place.
    const short = feed.arrival(30);
    started = performance.now();
    const long = feed.arrival(5000);
    await short;
    await nc.jetstream().publish("wake.x", new TextEncoder().encode("again"));
    await long;
    assert.ok(performance.now() - started < 2000, `the later wait woken by the message after ${(performance.now() - started).toFixed(0)} ms`);
    feed.close();
  });
});
