import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { batchSource, Bool, collectDefinitions, compileDefinitions, entity, featureView, Float32, Int32, Int64, IngestValidationError } from "../../src/index.js";
import type { BatchSourceInput, FeatureStore, ValueType } from "../../src/index.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import type { OfflineCommit } from "../../src/offline/commit-log.js";
import { toCsv } from "../helpers/csv.js";
import { openProject } from "../helpers/project.js";
import { treeHash } from "../helpers/tree-hash.js";

/**
 * `store.ingest` against the contract: bad input is rejected with the file, 1-based data row and
 * column of each defect and leaves the offline folder byte-identical; good input of every
 * supported shape lands, normalized, under `date=<UTC date>` folders listed by a commit.
 */

const COLUMNS = ["driver_id", "ts", "created", "conv_rate", "trips", "rank", "active"];
const PARQUET_TYPES: Record<string, string> = { driver_id: "BIGINT", ts: "TIMESTAMPTZ", created: "TIMESTAMPTZ", conv_rate: "FLOAT", trips: "BIGINT", rank: "INTEGER", active: "BOOLEAN" };
const T = new Date("2024-01-01T10:00:00Z");
const LATER = new Date("2024-06-01T00:00:00Z");
const row = (driverId: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  driver_id: driverId, ts: T, created: new Date("2024-01-01T11:00:00Z"), conv_rate: 0.5, trips: 3, rank: 1, active: true, ...over,
});
const without = (column: string): string[] => COLUMNS.filter((c) => c !== column);

const driver = entity({ name: "driver", joinKeys: ["driver_id"], valueType: Int64 });
const SCHEMA = { conv_rate: Float32, trips: Int64, rank: Int32, active: Bool };
function view(name: string, source: Partial<BatchSourceInput> = {}, schema: Record<string, ValueType> = SCHEMA) {
  return featureView({ name, entities: [driver], schema, source: batchSource({ path: `data/${name}.csv`, timestampField: "ts", createdTimestampField: "created", ...source }) });
}

let store: FeatureStore;
let dir: string;
let offline: string;
let reader: DuckDb;

async function input(name: string, text: string): Promise<string> {
  const path = join(dir, "inputs", name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

const csv = (name: string, columns: readonly string[], rows: readonly Record<string, unknown>[]): Promise<string> => input(`${name}.csv`, toCsv(columns, rows));

/** CSV files `<folder>/part-<i>.csv` and the glob matching them. */
async function glob(folder: string, parts: readonly (readonly [readonly string[], readonly Record<string, unknown>[]])[]): Promise<string> {
  for (const [i, [columns, rows]] of parts.entries()) await csv(`${folder}/part-${i + 1}`, columns, rows);
  return join(dir, "inputs", folder, "*.csv");
}

/** A Parquet file written by an independent DuckDB, with COLUMNS typed as PARQUET_TYPES unless `types` says otherwise. */
async function parquet(name: string, rows: readonly Record<string, unknown>[], types: Record<string, string> = {}): Promise<string> {
  const text = await csv(`${name}.src`, COLUMNS, rows);
  const path = join(dir, "inputs", `${name}.parquet`);
  const select = COLUMNS.map((c) => `CAST("${c}" AS ${types[c] ?? PARQUET_TYPES[c]}) AS "${c}"`).join(", ");
  await reader.run(`COPY (SELECT ${select} FROM read_csv('${text}', header = true, all_varchar = true)) TO '${path}' (FORMAT parquet)`);
  return path;
}

const commitsDir = (name: string): string => join(offline, name, "v1", "_commits");

async function commitsOf(name: string): Promise<OfflineCommit[]> {
  const names = (await readdir(commitsDir(name)).catch(() => [])).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(commitsDir(name), n), "utf8")) as OfflineCommit));
}

/**
 * Checks the layout of a view and returns its stored rows (by key, time): the commits list
 * exactly the part files on disk, and each file holds only rows of its folder's UTC date.
 */
async function storedRows(name: string, commitCount: number): Promise<Record<string, unknown>[]> {
  const root = join(offline, name, "v1");
  assert.deepEqual(await readdir(commitsDir(name)), Array.from({ length: commitCount }, (_, i) => `${String(i + 1).padStart(10, "0")}.json`));
  const listed = (await commitsOf(name)).flatMap((c) => c.files);
  const onDisk = (await readdir(root, { recursive: true })).filter((p) => p.startsWith("date=") && p.endsWith(".parquet"));
  assert.deepEqual(onDisk.sort(), listed.map((f) => f.path).sort(), "the commits list every data file");
  for (const f of listed) {
    const days = await reader.rows(`SELECT strftime(event_timestamp, '%Y-%m-%d') AS day, count(*) AS n FROM read_parquet('${join(root, f.path)}') GROUP BY 1`);
    assert.deepEqual(days.map((d) => [d.day, Number(d.n)]), [[f.date, f.rows]], `${f.path}: rows of its folder's UTC date only`);
    assert.equal(f.path.split("/")[0], `date=${f.date}`);
  }
  const files = listed.map((f) => `'${join(root, f.path)}'`).join(", ");
  return reader.rows(`SELECT * FROM read_parquet([${files}], hive_partitioning = false) ORDER BY driver_id, event_timestamp`);
}

/** Point-in-time features of `keys` at `at` (inclusive), via the public API. */
async function features(name: string, names: readonly string[], keys: readonly number[], at = LATER): Promise<Record<string, unknown>[]> {
  const set = await store.getHistoricalFeatures({ entities: keys.map((k) => ({ driver_id: k, event_timestamp: at })), features: names.map((f) => `${name}:${f}`), inclusive: true });
  try {
    return (await set.toRows()).map((r) => Object.fromEntries(names.map((f) => [f, r[f]])));
  } finally {
    await set.close();
  }
}

interface Expected {
  readonly file?: string;
  readonly row?: number;
  readonly column?: string;
  readonly message: RegExp;
}

const bad: { name: string; input: () => Promise<string>; expected: () => Expected}[] = [
  { name: "a missing feature column", input: () => csv("no-feature", without("active"), [row(1)]), expected: () => ({ column: "active", message: /missing feature column \(the file has: driver_id, ts, created, conv_rate, trips, rank\)/ }) },
  { name: "a missing join key column", input: () => csv("no-key", without("driver_id"), [row(1)]), expected: () => ({ column: "driver_id", message: /missing join key column/ }) },
  { name: "a missing timestamp column", input: () => csv("no-ts", without("ts"), [row(1)]), expected: () => ({ column: "ts", message: /missing timestamp column/ }) },
  {
    name: "a VARCHAR Parquet column for a Float32 feature",
    input: () => parquet("varchar-float", [row(1)], { conv_rate: "VARCHAR" }),
    expected: () => ({ column: "conv_rate", message: /has type VARCHAR, which cannot hold a Float32/ }),
  },
  { name: "a DOUBLE Parquet column for a Bool feature", input: () => parquet("double-bool", [row(1, { active: 1 })], { active: "DOUBLE" }), expected: () => ({ column: "active", message: /has type DOUBLE, which cannot hold a Bool/ }) },
  { name: "CSV text that is not a Float32 (row 3)", input: () => csv("abc", COLUMNS, [row(1), row(2), row(3, { conv_rate: "abc" })]), expected: () => ({ row: 3, column: "conv_rate", message: /"abc" is not a Float32/ }) },
  { name: "a CSV fraction for an Int64", input: () => csv("fraction", COLUMNS, [row(1), row(2, { trips: "2.5" })]), expected: () => ({ row: 2, column: "trips", message: /"2.5" is not an? Int64/ }) },
  { name: "a Parquet DOUBLE fraction for an Int64", input: () => parquet("fraction", [row(1, { trips: 2.5 })], { trips: "DOUBLE" }), expected: () => ({ row: 1, column: "trips", message: /"2.5" is not an? Int64/ }) },
  { name: "an Int64 overflowing an Int32 feature", input: () => parquet("overflow", [row(1), row(2, { rank: 3_000_000_000 })], { rank: "BIGINT" }), expected: () => ({ row: 2, column: "rank", message: /"3000000000" is not an? Int32/ }) },
  {
    name: "a CSV number out of Float32 range",
    input: () => csv("huge", COLUMNS, [row(1, { conv_rate: "1e39" })]),
    expected: () => ({ row: 1, column: "conv_rate", message: /"1e39" is not a Float32/ }),
  },
  { name: "a null join key (row 4)", input: () => csv("null-key", COLUMNS, [row(1), row(2), row(3), row(4, { driver_id: null })]), expected: () => ({ row: 4, column: "driver_id", message: /join key is null/ }) },
  { name: "an unparseable timestamp", input: () => csv("bad-ts", COLUMNS, [row(1), row(2, { ts: "2024-13-45" })]), expected: () => ({ row: 2, column: "ts", message: /"2024-13-45" .*(unparseable|not a Timestamp)/ }) },
  { name: "a missing (empty) timestamp", input: () => csv("empty-ts", COLUMNS, [row(1), row(2, { ts: null })]), expected: () => ({ row: 2, column: "ts", message: /event timestamp is missing/ }) },
  {
    name: "a bad row in the second file of a glob (file and row of that file)",
    input: () => glob("glob-bad", [[COLUMNS, [row(1), row(2)]], [COLUMNS, [row(3), row(4, { conv_rate: "x" })]]]),
    expected: () => ({ file: join(dir, "inputs", "glob-bad", "part-2.csv"), row: 2, column: "conv_rate", message: /"x" is not a Float32/ }),
  },
  {
    name: "a file of a glob that lacks a feature column",
    input: () => glob("glob-short", [[COLUMNS, [row(1)]], [without("active"), [row(2)]]]),
    expected: () => ({ file: join(dir, "inputs", "glob-short", "part-2.csv"), column: "active", message: /missing feature column/ }),
  },
  { name: "a file that does not exist", input: () => Promise.resolve(join(dir, "inputs", "nope.csv")), expected: () => ({ message: /no such file/ }) },
];

const empty: { name: string; input: () => Promise<string>}[] = [
  { name: "a header-only CSV", input: () => csv("header-only", COLUMNS, []) },
  { name: "a Parquet file with no rows", input: () => parquet("no-rows", []) },
  { name: "an empty (0-byte) CSV", input: () => input("zero.csv", "") },
];

describe("ingest validation", () => {
  before(async () => {
    ({ store, dir } = await openProject());
    offline = store.config.offline.path;
    reader = await DuckDb.open();
    const views = [...bad.map((_, i) => `fresh_${i}`), "fresh", "loaded", "widened", "pandas", "zoned", "globbed"].map((n) => view(n));
    views.push(view("mapped", { fieldMapping: { driver: "driver_id", cr: "conv_rate" } }, { conv_rate: Float32 }));
    views.push(view("stamped", { createdTimestampField: undefined }, { conv_rate: Float32 }));
    await store.apply(compileDefinitions(collectDefinitions({ views })));
    await store.ingest("loaded", { file: await csv("loaded", COLUMNS, [row(1), row(2)]) });
  });
  after(async () => {
    await store.close();
    reader.close();
  });

  /** Ingests `file` into a view without data and into one with a commit: rejected, located, nothing changed. */
  async function assertRejected(fresh: string, file: string, expected: Expected): Promise<void> {
    const where = { file: expected.file ?? file, row: expected.row, column: expected.column };
    for (const name of [fresh, "loaded"]) {
      const tree = await treeHash(offline);
      const error = await store.ingest(name, { file }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof IngestValidationError, `${name}: expected an IngestValidationError, got ${String(error)}`);
      assert.equal(error.code, "INGEST_INVALID");
      assert.ok(error.problems.length > 0);
      for (const p of error.problems) assert.deepEqual({ file: p.file, row: p.row, column: p.column }, where, `${name}: ${p.message}`);
      assert.match(error.problems.map((p) => p.message).join("\n"), expected.message);
      const location = [where.file, where.row === undefined ? "" : `, row ${where.row}`, where.column === undefined ? "" : `, column "${where.column}"`].join("");
      assert.ok(error.message.includes(location) && error.message.includes("nothing was written"), error.message);
      assert.deepEqual(await treeHash(offline), tree, `${name}: the offline folder is unchanged`);
    }
  }

  for (const [i, c] of bad.entries()) {
    it(`rejects ${c.name}`, async () => assertRejected(`fresh_${i}`, await c.input(), c.expected()));
  }

  for (const c of empty) {
    it(`accepts ${c.name}: 0 rows, no commit, nothing changed`, async () => {
      const file = await c.input();
      for (const name of ["fresh", "loaded"]) {
        const tree = await treeHash(offline);
        const report = await store.ingest(name, { file });
        assert.deepEqual([report.rows, report.commit], [0, null]);
        assert.deepEqual(await treeHash(offline), tree);
      }
    });
  }

  it("widens a Parquet int32 column into an Int64 feature", async () => {
    const report = await store.ingest("widened", { file: await parquet("int32", [row(1, { trips: 7 }), row(2, { trips: -2_000_000_000 })], { trips: "INTEGER" }) });
    assert.equal(report.commit?.seq, 1);
    const types = await reader.rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${join(offline, "widened", "v1", "date=*", "*.parquet")}'))`);
    assert.ok(types.some((t) => t.column_name === "trips" && t.column_type === "BIGINT"), JSON.stringify(types));
    assert.deepEqual((await storedRows("widened", 1)).map((r) => r.trips), [7n, -2_000_000_000n]);
    assert.deepEqual(await features("widened", ["trips"], [1, 2]), [{ trips: 7 }, { trips: -2_000_000_000 }]);
  });

  it("reads pandas-style float64 with NaN into an Int64 feature (NaN is null, integral floats accepted)", async () => {
    await store.ingest("pandas", { file: await parquet("pandas", [row(1, { trips: "NaN" }), row(2, { trips: 3 }), row(3, { trips: -4e15 })], { trips: "DOUBLE" }) });
    assert.deepEqual((await storedRows("pandas", 1)).map((r) => r.trips), [null, 3n, -4_000_000_000_000_000n]);
    assert.deepEqual(await features("pandas", ["trips"], [1, 2, 3]), [{ trips: null }, { trips: 3 }, { trips: -4e15 }]);
  });

  it("normalizes offsets to UTC, reads naive timestamps as UTC, and partitions by UTC date", async () => {
    const rows = [
      row(1, { ts: "2024-01-02T01:00:00+02:00", created: "2024-01-05T00:00:00+01:00" }),
      row(2, { ts: "2024-01-02 01:00:00", created: "2024-01-05 00:00:00" }),
      row(3, { ts: "2024-01-02T20:30:00-05:00" }),
    ];
    const report = await store.ingest("zoned", { file: await csv("zoned", COLUMNS, rows) });
    assert.deepEqual([report.commit?.minEventTimestamp, report.commit?.maxEventTimestamp], ["2024-01-01T23:00:00.000000Z", "2024-01-03T01:30:00.000000Z"]);
    const stored = await storedRows("zoned", 1);
    const iso = (v: unknown): string => (v as Date).toISOString();
    assert.deepEqual(stored.map((r) => iso(r.event_timestamp)), ["2024-01-01T23:00:00.000Z", "2024-01-02T01:00:00.000Z", "2024-01-03T01:30:00.000Z"]);
    assert.deepEqual(stored.map((r) => iso(r.created_timestamp)).slice(0, 2), ["2024-01-04T23:00:00.000Z", "2024-01-05T00:00:00.000Z"]);
    assert.deepEqual(report.commit?.files.map((f) => f.date).sort(), ["2024-01-01", "2024-01-02", "2024-01-03"]);
    const utc = new Date("2024-01-01T23:00:00Z");
    assert.deepEqual(await features("zoned", ["rank"], [1, 2], utc), [{ rank: 1 }, { rank: null }]);
    assert.deepEqual(await features("zoned", ["rank"], [1], new Date(utc.getTime() - 1)), [{ rank: null }], "not visible before its UTC instant");
  });

  it("renames source columns with fieldMapping", async () => {
    const file = await csv("mapped", ["driver", "ts", "created", "cr"], [{ driver: 5, ts: T, created: T, cr: 0.25 }]);
    await store.ingest("mapped", { file });
    const stored = await storedRows("mapped", 1);
    assert.deepEqual(Object.keys(stored[0] ?? {}).sort(), ["conv_rate", "created_timestamp", "driver_id", "event_timestamp"]);
    assert.deepEqual(await features("mapped", ["conv_rate"], [5]), [{ conv_rate: 0.25 }]);
  });

  it("stamps rows with the ingest time when the source has no created column", async () => {
    const file = await csv("stamped", ["driver_id", "ts", "conv_rate"], [{ driver_id: 1, ts: T, conv_rate: 1.5 }]);
    const started = Date.now();
    await store.ingest("stamped", { file });
    const finished = Date.now();
    const [stored] = await storedRows("stamped", 1);
    const created = (stored?.created_timestamp as Date).getTime();
    assert.ok(started <= created && created <= finished, `created ${created} within [${started}, ${finished}]`);
    assert.deepEqual(await features("stamped", ["conv_rate"], [1]), [{ conv_rate: 1.5 }]);
  });

  it("ingests every file of a glob in one commit", async () => {
    const file = await glob("multi", [[COLUMNS, [row(1, { conv_rate: 0.25 }), row(2, { ts: new Date("2024-01-03T00:00:00Z") })]], [COLUMNS, [row(3, { conv_rate: 1.5 })]]]);
    const report = await store.ingest("globbed", { file });
    assert.deepEqual([report.rows, report.commit?.rows, report.commit?.source], [3, 3, file]);
    assert.equal((await storedRows("globbed", 1)).length, 3);
    assert.deepEqual(await features("globbed", ["conv_rate"], [1, 2, 3]), [{ conv_rate: 0.25 }, { conv_rate: 0.5 }, { conv_rate: 1.5 }]);
  });
});
