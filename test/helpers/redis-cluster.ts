import { execFile } from "node:child_process";
import { after, before } from "node:test";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { rawRedisCommand, redisCommand, startRedis, type RedisServer } from "./redis-server.js";

/**
 * A throwaway Redis Cluster (masters only, no replicas) for one test file: real slot routing,
 * so tests can check that a client follows MOVED and ASK while slots move (`migrateSlot`, or
 * `beginSlotMigration` + `finishSlotMigration` to look at the half-migrated state in between).
 * Start-up is ~1-2 s (mostly `redis-cli --cluster create` waiting for the nodes to gossip).
 */
export interface RedisCluster {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** Stops every node and deletes their folders; safe to call twice. */
  stop(): Promise<void>;
  /** Takes node `index` down (SIGTERM, folder kept): after ~2 s (node timeout) the cluster reports `cluster_state:fail`. */
  stopNode(index: number): Promise<void>;
  /** Brings node `index` back on its port with its nodes.conf; when all nodes run, waits for `cluster_state:ok`. */
  startNode(index: number): Promise<void>;
  /** The index of the node that owns `slot`, as node `askIndex` (default: the first running one) sees it. */
  slotOwner(slot: number, askIndex?: number): Promise<number>;
  /** Moves `slot` live, keys included, from node `from` to node `to` (the two phases below in one go). */
  migrateSlot(slot: number, from: number, to: number): Promise<void>;
  /**
   * Phase 1: marks `slot` IMPORTING on `to` and MIGRATING on `from`, then MIGRATEs up to `keys`
   * (default: all) of its keys, or exactly the keys listed (a slot may also hold earlier tests'
   * keys, so a count does not say which move). `from` still owns the slot, so it answers `-ASK`
   * for moved keys.
   */
  beginSlotMigration(slot: number, from: number, to: number, options?: { keys?: number | readonly string[] }): Promise<void>;
  /** Phase 2: MIGRATEs the remaining keys, then CLUSTER SETSLOT NODE on every master (`to` first, then `from`). */
  finishSlotMigration(slot: number): Promise<void>;
}

const run = promisify(execFile);
const SLOTS = 16384;
const READY_TIMEOUT_MS = 30_000;
const MIGRATE_BATCH = 100;
const MIGRATE_TIMEOUT_MS = 5_000;

export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error("redis-cli --cluster create needs at least 3 masters");
  const servers: RedisServer[] = [];
  const down = new Set<number>();
  const pending = new Map<number, { from: number; to: number }>();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= Promise.all(servers.map((server) => server.stop())).then(() => undefined));

  const server = (index: number): RedisServer => {
    const found = servers[index];
    if (found === undefined) throw new Error(`no cluster node ${index} (there are ${servers.length})`);
    return found;
  };
  const nodeId = async (index: number): Promise<string> => String(await redisCommand(server(index).port, "CLUSTER", "MYID"));

  /** Waits until every node (or just `only`) reports cluster_state:ok with all slots assigned and all nodes known. */
  async function waitUntilOk(only?: number[]): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = "";
    for (;;) {
      const infos = await Promise.all((only ?? servers.map((_, i) => i)).map((i) => redisCommand(server(i).port, "CLUSTER", "INFO").catch(String)));
      const ok = infos.every((info) => {
        const text = String(info);
        return text.includes("cluster_state:ok") && text.includes(`cluster_slots_assigned:${SLOTS}`) && text.includes(`cluster_known_nodes:${servers.length}`);
      });
      if (ok) return;
      last = infos.map(String).join("\n---\n");
      if (Date.now() > deadline) throw new Error(`the Redis cluster did not reach cluster_state:ok within ${READY_TIMEOUT_MS} ms:\n${last}`);
      await sleep(50);
    }
  }

  /** MIGRATEs up to `limit` keys of `slot` from node `from` to node `to`, in batches (binary-safe); returns how many. */
  async function moveKeys(slot: number, from: number, to: number, limit = Infinity): Promise<number> {
    let moved = 0;
    while (moved < limit) {
      const batch = Math.min(MIGRATE_BATCH, limit - moved);
      const keys = (await rawRedisCommand(server(from).port, ["CLUSTER", "GETKEYSINSLOT", slot, batch])) as Buffer[];
      if (keys.length === 0) break;
      const target = server(to);
      await rawRedisCommand(server(from).port, ["MIGRATE", target.host, target.port, "", 0, MIGRATE_TIMEOUT_MS, "KEYS", ...keys]);
      moved += keys.length;
    }
    return moved;
  }

  const cluster: RedisCluster = {
    get nodes() {
      return servers.map((s) => ({ host: s.host, port: s.port }));
    },
    stop,
    async stopNode(index) {
      await server(index).shutdown();
      down.add(index);
    },
    async startNode(index) {
      await server(index).restart();
      down.delete(index);
      if (down.size === 0) await waitUntilOk();
    },
    async slotOwner(slot, askIndex) {
      const asked = askIndex ?? servers.findIndex((_, i) => !down.has(i));
      const ranges = (await redisCommand(server(asked).port, "CLUSTER", "SLOTS")) as [number, number, [string, number, string]][];
      const range = ranges.find(([start, end]) => start <= slot && slot <= end);
      if (range === undefined) throw new Error(`slot ${slot} is not assigned (asked node ${asked})`);
      return servers.findIndex((s) => s.port === range[2][1]);
    },
    async migrateSlot(slot, from, to) {
      await cluster.beginSlotMigration(slot, from, to);
      await cluster.finishSlotMigration(slot);
    },
    async beginSlotMigration(slot, from, to, { keys } = {}) {
      if (pending.has(slot)) throw new Error(`slot ${slot} is already being migrated`);
      if (from === to) throw new Error("a slot cannot migrate to the node that owns it");
      const owner = await cluster.slotOwner(slot, from);
      if (owner !== from) throw new Error(`slot ${slot} is owned by node ${owner}, not node ${from}`);
      // Order as in the Redis Cluster spec: IMPORTING on the target first, so that once the source
      // starts sending -ASK, the target already accepts the redirected (ASKING) commands.
      await redisCommand(server(to).port, "CLUSTER", "SETSLOT", slot, "IMPORTING", await nodeId(from));
      await redisCommand(server(from).port, "CLUSTER", "SETSLOT", slot, "MIGRATING", await nodeId(to));
      pending.set(slot, { from, to });
      if (typeof keys === "object") {
        const target = server(to);
        await rawRedisCommand(server(from).port, ["MIGRATE", target.host, target.port, "", 0, MIGRATE_TIMEOUT_MS, "KEYS", ...keys]);
      } else await moveKeys(slot, from, to, keys);
    },
    async finishSlotMigration(slot) {
      const migration = pending.get(slot);
      if (migration === undefined) throw new Error(`slot ${slot} is not being migrated: call beginSlotMigration first`);
      const { from, to } = migration;
      await moveKeys(slot, from, to);
      const targetId = await nodeId(to);
      // The target first (it bumps its config epoch), then the source, then everyone else, so
      // no node ever points clients back at the source.
      const order = [to, from, ...servers.map((_, i) => i).filter((i) => i !== to && i !== from && !down.has(i))];
      for (const index of order) await redisCommand(server(index).port, "CLUSTER", "SETSLOT", slot, "NODE", targetId);
      pending.delete(slot);
    },
  };

  try {
    for (let i = 0; i < masters; i++) servers.push(await startRedis({ cluster: true }));
    const addresses = servers.map((s) => `${s.host}:${s.port}`);
    try {
      await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], { timeout: READY_TIMEOUT_MS });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed: ${stderr || stdout || (error as Error).message}`, { cause: error });
    }
    await waitUntilOk();
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}

/**
 * Starts one cluster before the tests of the current `describe` (or file) and stops it after
 * them; call it in the describe body, not inside a hook (see `usePostgres`).
 */
export function useRedisCluster(options?: { masters?: number }): { cluster(): RedisCluster } {
  let started: RedisCluster | undefined;
  before(async () => {
    started = await startRedisCluster(options);
  });
  after(() => started?.stop());
  return {
    cluster() {
      if (started === undefined) throw new Error("the Redis cluster is not running: useRedisCluster() starts it in a before hook");
      return started;
    },
  };
}
