import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GENESIS, macOf, sealEntry, type AuditRow } from "../../src/audit/audit-entry.js";
import { canonicalJson, sha256Hex as sha256 } from "../../src/util/canonical-json.js";
import { verifyChain } from "../../src/audit/verify-chain.js";

/** A chain of n entries as an appender writes it (signed with `key` when given). */
function chain(n: number, key?: string): AuditRow[] {
  const rows: AuditRow[] = [];
  for (let seq = 1; seq <= n; seq++) rows.push(sealEntry({ actor: "ann", action: "ingest", object: `featureView:v${seq}`, details: { rows: seq } }, seq, rows.at(-1)?.hash ?? GENESIS, key, new Date(Date.UTC(2026, 0, 1, 0, seq))));
  return rows;
}

/** Rewrites one entry's text the way someone with write access to the table would. */
function edited(row: AuditRow, change: (entry: Record<string, unknown>) => void, rehash: boolean): AuditRow {
  const entry = JSON.parse(row.entry) as Record<string, unknown>;
  change(entry);
  const text = canonicalJson(entry);
  return { ...row, entry: text, hash: rehash ? sha256(text) : row.hash };
}

const problem = (rows: readonly AuditRow[], options: { key?: string; anchor?: string } = {}) => {
  const p = verifyChain(rows, options).problem;
  return p === null ? null : { kind: p.kind, seq: p.seq };
};

describe("audit chain verification", () => {
  it("passes an intact chain, signed or not, and an empty one", () => {
    assert.equal(problem(chain(10)), null);
    assert.equal(problem(chain(10, "secret"), { key: "secret" }), null);
    assert.deepEqual(verifyChain([]), { ok: true, entries: 0, head: null, signaturesChecked: false, problem: null });
  });

  it("finds an edited entry, with or without its hash recomputed", () => {
    const rows = chain(10);
    const more = (e: Record<string, unknown>) => (e.details = { rows: 1_000_000 });
    assert.deepEqual(problem(rows.with(4, edited(rows[4]!, more, false))), { kind: "altered", seq: 5 });
    assert.deepEqual(problem(rows.with(4, edited(rows[4]!, more, true))), { kind: "altered", seq: 5 }, "the next entry still names the old hash");
    assert.deepEqual(problem(rows.with(0, edited(rows[0]!, (e) => (e.actor = "mallory"), true))), { kind: "altered", seq: 1 });
    assert.deepEqual(problem(rows.with(3, { ...rows[3]!, entry: rows[3]!.entry.replace("{", "{ ") })), { kind: "altered", seq: 4 }, "text changed without a change of meaning");
  });

  it("finds deleted entries: in the middle and the first", () => {
    const rows = chain(10);
    assert.deepEqual(problem(rows.toSpliced(6, 2)), { kind: "deleted", seq: 7 });
    assert.deepEqual(problem(rows.slice(1)), { kind: "deleted", seq: 1 });
    assert.deepEqual(problem([...rows.slice(0, 6), ...rows.slice(7).map((r) => ({ ...r, seq: r.seq - 1 }))]), { kind: "deleted", seq: 7 }, "and the rest renumbered to close the gap");
  });

  it("finds an inserted entry, sealed to fit and the rest renumbered", () => {
    const rows = chain(10);
    const forged = sealEntry({ actor: "mallory", action: "apply", object: "project" }, 6, rows[4]!.hash, undefined);
    const renumbered = [...rows.slice(0, 5), forged, ...rows.slice(5).map((r) => ({ ...r, seq: r.seq + 1 }))];
    assert.deepEqual(problem(renumbered), { kind: "inserted", seq: 6 });
  });

  it("finds reordered entries: two swapped in place", () => {
    const rows = chain(10);
    const swapped = rows.map((r, i) => (i === 3 ? { ...rows[4]!, seq: 4 } : i === 4 ? { ...rows[3]!, seq: 5 } : r));
    assert.deepEqual(problem(swapped), { kind: "reordered", seq: 4 });
    const later = rows.map((r, i) => (i === 2 ? { ...rows[7]!, seq: 3 } : i === 7 ? { ...rows[2]!, seq: 8 } : r));
    assert.deepEqual(problem(later), { kind: "reordered", seq: 3 });
  });

  it("finds a truncated tail only against an anchor kept outside the log, and a chain rewritten since the anchor", () => {
    const rows = chain(10);
    const anchor = verifyChain(rows).head!;
    assert.equal(anchor, `10:${rows[9]!.hash}`);
    assert.equal(problem(rows.slice(0, 7)), null, "without an anchor a shorter chain is a valid chain");
    assert.deepEqual(problem(rows.slice(0, 7), { anchor }), { kind: "truncated", seq: 8 });
    assert.equal(problem([...rows, ...chain(12).slice(10)].slice(0, 10), { anchor }), null);
    const rebuilt: AuditRow[] = [];
    for (const r of rows) rebuilt.push(sealEntry({ actor: "mallory", action: "ingest", object: "x" }, r.seq, rebuilt.at(-1)?.hash ?? GENESIS, undefined));
    assert.deepEqual(problem(rebuilt, { anchor }), { kind: "altered", seq: 10 }, "a chain rebuilt from scratch is consistent but misses the anchor");
    assert.throws(() => verifyChain(rows, { anchor: "ten:abc" }), /not seq:sha256/);
  });

  it("with the key, finds an entry appended or edited by someone without it", () => {
    const rows = chain(6, "secret");
    const appended = sealEntry({ actor: "mallory", action: "erase", object: "customer:42" }, 7, rows[5]!.hash, undefined);
    assert.deepEqual(problem([...rows, appended], { key: "secret" }), { kind: "inserted", seq: 7 });
    assert.deepEqual(problem([...rows, { ...appended, mac: macOf("guess", appended.hash) }], { key: "secret" }), { kind: "inserted", seq: 7 });
    const forged = sealEntry({ actor: "mallory", action: "apply", object: "project" }, 4, rows[2]!.hash, undefined);
    const renumbered = [...rows.slice(0, 3), forged, ...rows.slice(3).map((r) => ({ ...r, seq: r.seq + 1 }))];
    assert.deepEqual(problem(renumbered, { key: "secret" }), { kind: "inserted", seq: 4 }, "inserted in the middle, the rest renumbered");
    const edit = edited(rows[2]!, (e) => (e.object = "featureView:other"), true);
    assert.deepEqual(problem(rows.with(2, edit), { key: "secret" }), { kind: "altered", seq: 3 });
    assert.equal(problem([...rows, appended]), null, "without the key an appended entry that links is indistinguishable");
  });
});

describe("canonical JSON", () => {
  it("sorts keys at every depth, drops undefined members, keeps arrays in order", () => {
    assert.equal(canonicalJson({ b: [2, { d: 1, c: null }], a: "x", u: undefined }), '{"a":"x","b":[2,{"c":null,"d":1}]}');
    assert.equal(canonicalJson({ é: 1, e: 2, E: 3 }), '{"E":3,"e":2,"é":1}');
    assert.throws(() => canonicalJson({ x: Number.NaN }), /no NaN/);
  });
});
