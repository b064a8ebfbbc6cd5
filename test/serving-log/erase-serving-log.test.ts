import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DuckDb } from "../../src/offline/duckdb.js";
import { eraseFromServingLog, servingLogRemaining } from "../../src/serving-log/erase-serving-log.js";
import { ServingLogLayout } from "../../src/serving-log/serving-log-layout.js";
import { loggedRows, type LoggedRow } from "./logged-rows.js";
import { openLoggedProject, writeValues, type LoggedProject } from "./logged-project.js";

const SUBJECT = "zq-erase-me-5d1c7b";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Erasure of a data subject from the serving log: exactly its rows go, no byte of it remains, the rest is untouched. */
describe("erasing a subject from the serving log", () => {
  let p: LoggedProject;
  let duck: DuckDb;
  let root: string;
  let layout: ServingLogLayout;
  let before_: LoggedRow[];
  const fileBytes = new Map<string, Buffer>();

  before(async () => {
    p = await openLoggedProject({ services: { scoring: 1 }, featureRefs: 1, flushIntervalMs: 60_000 });
    await writeValues(p, SUBJECT);
    duck = await p.store.engine();
    root = p.store.config.offline.path;
    layout = new ServingLogLayout(root);
    const read = (customers: string[]) => p.post("/v1/online-features", { features: ["customer_profile:segment", "customer_profile:score"], entities: { customer_id: customers } });
    await read([SUBJECT]); // a file holding only the subject's rows: deleted
    await p.log!.flush();
    await read(["c-2", SUBJECT, "c-3"]); // a file mixing subjects: rewritten
    await p.post("/v1/online-features", { feature_service: "scoring", entities: { customer_id: ["c-2", SUBJECT], driver_id: [3, 1] } });
    await p.log!.flush();
    await read(["c-2", "c-3"]); // a file without the subject: untouched
    await p.log!.flush();
    before_ = await loggedRows(duck, root);
    for (const file of await layout.partFiles()) fileBytes.set(file, await readFile(file));
  });
  after(() => p.close());

  it("finds the subject in the files before (the byte scan below is meaningful)", () => {
    const holding = [...fileBytes].filter(([, bytes]) => bytes.includes(SUBJECT)).length;
    assert.equal(fileBytes.size, 3);
    assert.equal(holding, 2);
  });

  it("removes exactly the subject's rows, deletes a file left empty, and leaves no trace of it", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    await mkdir(layout.stagingDir, { recursive: true });
    await writeFile(join(layout.stagingDir, `${dead}-crashed.tsv`), `{"subject_keys":["customer_id=${SUBJECT}"]}\n`);
    assert.equal(await servingLogRemaining(duck, root, [`customer_id=${SUBJECT}`]), 3 + 1, "3 rows, plus a crashed write's leftover that may hold any subject");

    assert.deepEqual(await eraseFromServingLog(duck, root, [`customer_id=${SUBJECT}`]), { files: 2, rows: 3 });

    const after_ = await loggedRows(duck, root);
    const isSubject = (r: LoggedRow): boolean => r.subject_keys.includes(`customer_id=${SUBJECT}`);
    assert.deepEqual(after_, before_.filter((r) => !isSubject(r)), "every other row kept, unchanged");
    for (const file of await filesUnder(join(root, "_serving_log"))) assert.ok(!(await readFile(file)).includes(SUBJECT), `no byte of the subject in ${file}`);
    const files = await layout.partFiles();
    assert.equal(files.length, 2, "the file that held only the subject is gone");
    const untouched = [...fileBytes].find(([, bytes]) => !bytes.includes(SUBJECT))![0];
    assert.deepEqual(await readFile(untouched), fileBytes.get(untouched), "a file without the subject is not rewritten");
    const [scan] = await duck.rows(
      `SELECT count(*) AS n FROM read_parquet([${files.map((f) => `'${f}'`).join(", ")}]) WHERE concat_ws('|', request_id, service, entity, features, feature_values, event_timestamps, array_to_string(subject_keys, '|')) LIKE '%${SUBJECT}%'`,
    );
    assert.equal(scan?.n, 0n, "DuckDB finds the subject in no column");
    assert.equal(await servingLogRemaining(duck, root, [`customer_id=${SUBJECT}`]), 0);
  });

  it("is idempotent, and matches rows holding all of a subject's keys", async () => {
    assert.deepEqual(await eraseFromServingLog(duck, root, [`customer_id=${SUBJECT}`]), { files: 0, rows: 0 });
    const rows = await loggedRows(duck, root);
    const both = rows.filter((r) => r.subject_keys.includes("customer_id=c-2") && r.subject_keys.includes("driver_id=3"));
    assert.equal(both.length, 1);
    assert.equal(await servingLogRemaining(duck, root, ["customer_id=c-2", "driver_id=3"]), 1);
    const c2 = await servingLogRemaining(duck, root, ["customer_id=c-2"]);
    assert.deepEqual(await eraseFromServingLog(duck, root, ["customer_id=c-2", "driver_id=3"]), { files: 1, rows: 1 });
    assert.equal(await servingLogRemaining(duck, root, ["customer_id=c-2"]), c2 - 1, "rows of customer c-2 with other drivers stay");
    await assert.rejects(eraseFromServingLog(duck, root, []), { code: "REQUEST_INVALID" });
  });

  it("runs erasures one at a time (two at once both hold), and takes over a lock a killed eraser left", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    await writeFile(join(layout.dir, "_erase.lock"), String(dead));
    const [c2, c3] = await Promise.all([eraseFromServingLog(duck, root, ["customer_id=c-2"]), eraseFromServingLog(duck, root, ["customer_id=c-3"])]);
    assert.ok(c2.rows > 0 && c3.rows > 0);
    assert.equal(await servingLogRemaining(duck, root, ["customer_id=c-2"]), 0);
    assert.equal(await servingLogRemaining(duck, root, ["customer_id=c-3"]), 0, "neither rewrite put back what the other removed");
    assert.deepEqual((await readdir(layout.dir)).filter((n) => n.includes("lock")), [], "no lock left");
  });

  it("with a boundary, removes the rows served at or before it and keeps later requests (new data)", async () => {
    const subject = ["customer_id=zq-later-91c2"];
    const read = () => p.post("/v1/online-features", { features: ["customer_profile:segment"], entities: { customer_id: ["zq-later-91c2"] } });
    const servedAt = async (): Promise<number> => {
      const { json } = await read();
      await p.log!.flush();
      const [row] = (await loggedRows(duck, root)).filter((r) => r.request_id === json.request_id);
      return Date.parse(row!.served_at) * 1000;
    };
    const first = await servedAt();
    const second = await servedAt();
    assert.ok(second > first, "served a millisecond or more apart");
    assert.equal(await servingLogRemaining(duck, root, subject, first), 1, "the boundary is inclusive");
    assert.equal(await servingLogRemaining(duck, root, subject, first - 1), 0);
    assert.deepEqual(await eraseFromServingLog(duck, root, subject, first), { files: 1, rows: 1 });
    assert.equal(await servingLogRemaining(duck, root, subject), 1, "the later request's row stays");
    assert.equal(await servingLogRemaining(duck, root, subject, first), 0);
  });
});
