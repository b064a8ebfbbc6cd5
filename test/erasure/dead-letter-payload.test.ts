import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { payloadMatcher, REDACTED_PAYLOAD } from "../../src/erasure/dead-letter-copy.js";
import type { Subject } from "../../src/erasure/subject.js";

const payloadMatches = (payload: string, subject: Subject): boolean => payloadMatcher(subject)(payload);

/** Which refused events' payloads an erasure takes as the subject's. */
describe("dead-letter payloads of a subject", () => {
  const subject = { customer_id: "42" };

  it("reads an event's join key fields, as numbers, strings or big integers", () => {
    assert.equal(payloadMatches('{"customer_id":42,"amount":1}', subject), true);
    assert.equal(payloadMatches('{"customer_id":"42","ts":"2024-01-01T00:00:00Z"}', subject), true);
    assert.equal(payloadMatches('{"customer_id":421,"amount":42}', subject), false, "another customer whose amount is 42");
    assert.equal(payloadMatches('{"amount":42}', subject), false, "no key field: not attributable");
    const big = { customer_id: "9007199254740993" };
    assert.equal(payloadMatches('{"customer_id":9007199254740993}', big), true, "beyond 2^53, exactly");
    assert.equal(payloadMatches('{"customer_id":9007199254740992}', big), false);
  });

  it("needs every key of a composite subject", () => {
    const pair = { customer_id: "42", merchant: "m-7" };
    assert.equal(payloadMatches('{"customer_id":42,"merchant":"m-7"}', pair), true);
    assert.equal(payloadMatches('{"customer_id":42,"merchant":"m-8"}', pair), false);
  });

  it("takes a malformed payload naming every value as a whole token, and nothing else", () => {
    assert.equal(payloadMatches('{"customer_id":42,"amount":', subject), true, "truncated JSON");
    assert.equal(payloadMatches("customer_id=42;amount=x", subject), true);
    assert.equal(payloadMatches('{"customer_id":421,', subject), false, "42 inside 421 is not the token");
    assert.equal(payloadMatches("[42]", subject), true, "a JSON list is not an event either");
    assert.equal(payloadMatches("id 4-42", subject), false, "a dash joins tokens (ids like c-42)");
    assert.equal(payloadMatches("a.b(42)", { customer_id: "a.b" }), true, "regex characters in the value are literal");
    assert.equal(payloadMatches("axb(42)", { customer_id: "a.b" }), false);
  });

  it("never takes a payload already erased", () => {
    assert.equal(payloadMatches(REDACTED_PAYLOAD, { customer_id: "erased" }), false);
  });
});
