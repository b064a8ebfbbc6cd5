import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { useRedisCluster } from "./redis-cluster.js";
import { randomPrefix, startRedis, useRedis } from "./redis-server.js";

// Checks the Redis helpers with nothing but redis-cli, so it does not trust the helpers' own RESP
// client (nor an npm client) to tell whether they work.

const run = promisify(execFile);

/** redis-cli's stdout, trimmed (it prints error replies there too, with exit code 0). */
async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).stdout.trim();
}

/** The port of the node owning `slot`, from CLUSTER NODES as node `port` sees it. */
async function ownerPort(port: number, slot: number): Promise<number> {
  for (const line of (await cli(port, "CLUSTER", "NODES")).split("\n")) {
    const [, address = "", flags = "", , , , , , ...slots] = line.split(" ");
    if (!flags.includes("master")) continue;
    for (const range of slots.filter((s) => !s.startsWith("["))) {
      const [start, end = start] = range.split("-").map(Number);
      if (start !== undefined && end !== undefined && start <= slot && slot <= end) return Number(address.split(/[:@]/)[1]);
    }
  }
  throw new Error(`nobody owns slot ${slot} according to node ${port}`);
}

/** The port of the master owning `slot`, from CLUSTER SHARDS (slot ranges, then nodes' fields) as node `port` sees it. */
async function shardOwnerPort(port: number, slot: number): Promise<number> {
  for (const shard of (await cli(port, "CLUSTER", "SHARDS")).split(/^slots$/m).slice(1)) {
    const [ranges = "", nodes = ""] = shard.split(/^nodes$/m);
    const bounds = ranges.trim().split("\n").map(Number);
    const owns = bounds.some((start, i) => i % 2 === 0 && start <= slot && slot <= (bounds[i + 1] ?? -1));
    const master = nodes.split(/^id$/m).find((node) => /^role\nmaster$/m.test(node)) ?? "";
    if (owns) return Number(/^port\n(\d+)$/m.exec(master)?.[1]);
  }
  throw new Error(`no shard owns slot ${slot} according to node ${port}`);
}

describe("startRedis", () => {
  const redis = useRedis();

  it("serves SET and GET on a loopback port", async () => {
    const { port, url, host } = redis.server();
    assert.equal(host, "127.0.0.1");
    assert.equal(url, `redis://127.0.0.1:${port}`);
    const key = `${randomPrefix()}greeting`;
    assert.equal(await cli(port, "SET", key, "hello"), "OK");
    assert.equal(await cli(port, "GET", key), "hello");
  });

  it("is gone after kill() and back, empty, on the same port after restart()", async () => {
    const server = redis.server();
    const key = `${randomPrefix()}k`;
    await cli(server.port, "SET", key, "v");
    await server.kill();
    await assert.rejects(cli(server.port, "PING"), /Connection refused/);
    await server.restart();
    assert.equal(await cli(server.port, "PING"), "PONG");
    assert.equal(await cli(server.port, "EXISTS", key), "0", "persistence is off");
  });

  it("applies extra config lines and deletes its folder on stop()", async () => {
    const server = await startRedis({ config: ["requirepass s3cret", "maxmemory 2mb"] });
    try {
      assert.match(await cli(server.port, "PING"), /NOAUTH/);
      assert.equal(await cli(server.port, "--no-auth-warning", "-a", "s3cret", "PING"), "PONG");
      assert.equal(await cli(server.port, "--no-auth-warning", "-a", "s3cret", "CONFIG", "GET", "maxmemory"), "maxmemory\n2097152");
      const dir = (await cli(server.port, "--no-auth-warning", "-a", "s3cret", "CONFIG", "GET", "dir")).split("\n")[1] ?? "";
      assert.ok(existsSync(dir));
      await server.stop();
      assert.ok(!existsSync(dir), `${dir} should be deleted`);
      await assert.rejects(cli(server.port, "PING"), /Connection refused/);
    } finally {
      await server.stop();
    }
  });
});

describe("startRedisCluster", () => {
  const redis = useRedisCluster({ masters: 3 });

  it("has 3 masters covering all 16384 slots", async () => {
    const { nodes } = redis.cluster();
    assert.equal(nodes.length, 3);
    for (const { port } of nodes) {
      const info = await cli(port, "CLUSTER", "INFO");
      assert.match(info, /cluster_state:ok/);
      assert.match(info, /cluster_slots_assigned:16384/);
      assert.match(info, /cluster_size:3/);
    }
  });

  it("serves a key written through redis-cli -c from any node", async () => {
    const { nodes } = redis.cluster();
    const key = `${randomPrefix()}k`;
    assert.equal(await cli(nodes[0]!.port, "-c", "SET", key, "v1"), "OK");
    for (const { port } of nodes) assert.equal(await cli(port, "-c", "GET", key), "v1");
  });

  it("migrates a slot live: -ASK while half-migrated, -MOVED after, keys readable throughout", async () => {
    const cluster = redis.cluster();
    const ports = cluster.nodes.map((n) => n.port);
    const prefix = randomPrefix(); // one hash tag: both keys live in the same slot
    const [a, b] = [`{${prefix}}a`, `{${prefix}}b`];
    await cli(ports[0]!, "-c", "SET", a, "va");
    await cli(ports[0]!, "-c", "SET", b, "vb");
    const slot = Number(await cli(ports[0]!, "CLUSTER", "KEYSLOT", a));
    const from = ports.indexOf(await ownerPort(ports[0]!, slot));
    const to = (from + 1) % ports.length;
    const [fromPort, toPort] = [ports[from]!, ports[to]!];

    await cluster.beginSlotMigration(slot, from, to, { keys: 1 });
    const moved = await cli(toPort, "CLUSTER", "GETKEYSINSLOT", String(slot), "10");
    const stayed = moved === a ? b : a;
    assert.ok(moved === a || moved === b, `exactly one key moved, got ${JSON.stringify(moved)}`);
    assert.equal(await ownerPort(fromPort, slot), fromPort, "the source still owns the slot");
    assert.equal(await cli(fromPort, "GET", moved), `ASK ${slot} 127.0.0.1:${toPort}`);
    assert.equal(await cli(fromPort, "GET", stayed), stayed === a ? "va" : "vb");
    assert.equal(await cli(toPort, "GET", moved), `MOVED ${slot} 127.0.0.1:${fromPort}`, "without ASKING the target redirects back");
    for (const port of ports) assert.deepEqual([await cli(port, "-c", "GET", a), await cli(port, "-c", "GET", b)], ["va", "vb"]);

    await cluster.finishSlotMigration(slot);
    for (const port of ports) assert.equal(await ownerPort(port, slot), toPort, `node ${port} sees the new owner`);
    for (const port of ports) assert.equal(await shardOwnerPort(port, slot), toPort, `CLUSTER SHARDS on ${port} too`);
    assert.equal(await cli(fromPort, "GET", a), `MOVED ${slot} 127.0.0.1:${toPort}`);
    assert.equal(await cli(fromPort, "CLUSTER", "COUNTKEYSINSLOT", String(slot)), "0");
    for (const port of ports) assert.deepEqual([await cli(port, "-c", "GET", a), await cli(port, "-c", "GET", b)], ["va", "vb"]);

    await cluster.migrateSlot(slot, to, from); // and back in one go
    assert.equal(await cluster.slotOwner(slot), from);
    assert.equal(await ownerPort(toPort, slot), fromPort);
    assert.equal(await cli(toPort, "-c", "GET", b), "vb");
  });

  it("takes a node down and brings it back with its slots", async () => {
    const cluster = redis.cluster();
    const ports = cluster.nodes.map((n) => n.port);
    const key = `${randomPrefix()}k`;
    await cli(ports[0]!, "-c", "SET", key, "v");
    const owner = ports.indexOf(await ownerPort(ports[0]!, Number(await cli(ports[0]!, "CLUSTER", "KEYSLOT", key))));
    await cluster.stopNode(owner);
    await assert.rejects(cli(ports[owner]!, "PING"), /Connection refused/);
    await cluster.startNode(owner);
    for (const port of ports) assert.match(await cli(port, "CLUSTER", "INFO"), /cluster_state:ok/);
    assert.equal(await cli(ports[(owner + 1) % 3]!, "-c", "EXISTS", key), "0", "persistence is off: the restarted node is empty");
  });
});
