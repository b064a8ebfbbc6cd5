import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FeatureViewSpec } from "../../src/definitions/specs.js";
import type { ErasureRecord } from "../../src/erasure/erasure-record.js";
import { ReplayBoundaries } from "../../src/erasure/replay-boundaries.js";
import { entityKeyMatches, erasedRowSql, exactEntityKey, parseSubject, rowMatches } from "../../src/erasure/subject.js";
import { InvalidRequestError } from "../../src/errors.js";
import { entityKey } from "../../src/online/entity-key.js";

const spec = (keys: [string, string][]): FeatureViewSpec => ({ joinKeys: keys.map(([name, type]) => ({ name, type })) }) as unknown as FeatureViewSpec;
const single = spec([["customer_id", "Int64"]]);
const composite = spec([["city", "String"], ["customer_id", "Int64"]]);
const erasure = (id: string, subject: Record<string, string>, boundaryMicros: number, views = ["v"]): ErasureRecord =>
  ({ id, subject, views, boundaryMicros, reason: null, actor: "t", requestedAt: "", status: "done", offlinePending: false, steps: [], completedAt: null });

describe("erasure subjects", () => {
  it("parses --entity pairs, refusing malformed and repeated ones", () => {
    assert.deepEqual(parseSubject(["customer_id=42", "city=a=b"]), { customer_id: "42", city: "a=b" });
    for (const bad of [[], ["customer_id"], ["=42"], ["a=1", "a=2"]]) assert.throws(() => parseSubject(bad), InvalidRequestError);
  });

  it("types the value as the join key: an integer key refuses text", () => {
    assert.equal(exactEntityKey(single, { customer_id: "42" }), "42");
    assert.throws(() => exactEntityKey(single, { customer_id: "4x" }), /Int64 integer/);
    assert.equal(exactEntityKey(composite, { customer_id: "42" }), undefined, "part of a composite key: matched by scan");
  });

  it("matches canonical composite keys by the named parts only, strings with commas and quotes included", () => {
    const key = (city: string, id: number): string => entityKey(composite.joinKeys, { city, customer_id: id });
    assert.ok(entityKeyMatches(composite, { customer_id: "42" }, key('a,"b",42', 42)));
    assert.ok(!entityKeyMatches(composite, { customer_id: "42" }, key("x,42", 420)));
    assert.ok(!entityKeyMatches(composite, { customer_id: "4" }, key("x", 42)));
    assert.ok(entityKeyMatches(composite, { city: 'a,"b"', customer_id: "42" }, key('a,"b"', 42)));
    assert.ok(!entityKeyMatches(composite, { city: "a" }, key('a,"b"', 42)));
  });

  it("compiles the offline predicate: the subject's keys, and event or created time at or before the boundary", () => {
    const sql = erasedRowSql(composite, { city: "O'Hare", customer_id: "42" }, 1_700_000_000_000_000);
    assert.match(sql, /\("city" = 'O''Hare' AND "customer_id" = 42\) AND \(event_timestamp <= make_timestamp\(1700000000000000::BIGINT\)::TIMESTAMPTZ OR created_timestamp <= /);
  });

  it("matches rows (events) by their join key fields", () => {
    assert.ok(rowMatches({ customer_id: 42, city: "x" }, { customer_id: "42" }));
    assert.ok(!rowMatches({ customer_id: null }, { customer_id: "42" }));
    assert.ok(!rowMatches({ customer_id: 421 }, { customer_id: "42" }));
  });
});

describe("replay boundaries", () => {
  it("drop an erased subject's events at or before the boundary, keep later ones and other subjects'", () => {
    const b = new ReplayBoundaries("v", single);
    assert.deepEqual(b.update([erasure("e1", { customer_id: "42" }, 1000), erasure("e2", { customer_id: "7" }, 1000, ["other"])]).map((e) => e.id), ["e1"]);
    assert.deepEqual(b.update([erasure("e1", { customer_id: "42" }, 1000)]), [], "seen erasures are not new");
    assert.ok(b.drops("42", () => ({ customer_id: 42 }), 1000));
    assert.ok(!b.drops("42", () => ({ customer_id: 42 }), 1001));
    assert.ok(!b.drops("7", () => ({ customer_id: 7 }), 10), "an erasure of another view");
    assert.ok(b.dropsState("42", 999) && !b.dropsState("42", 1001));
  });

  it("match subjects naming part of a composite key field by field", () => {
    const b = new ReplayBoundaries("v", composite);
    const e = erasure("e1", { customer_id: "42" }, 1000);
    b.update([e]);
    assert.ok(b.drops('"ams",42', () => ({ city: "ams", customer_id: 42 }), 5));
    assert.ok(!b.drops('"ams",43', () => ({ city: "ams", customer_id: 43 }), 5));
    assert.deepEqual(b.keysOf(e, ['"ams",42', '"ams",43', '"x,42",42']), ['"ams",42', '"x,42",42']);
  });
});
