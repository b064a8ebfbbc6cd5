import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAckSubject as parseBytes } from "../../src/stream/jetstream-ack-info.js";

/** Parses `subject` placed inside other bytes, as a frame holds it. */
function parseAckSubject(subject: string) {
  const bytes = Buffer.from(`MSG x 1 ${subject} 5`, "latin1");
  return parseBytes(bytes, 8, 8 + subject.length);
}

describe("JetStream ack subjects", () => {
  it("reads the 9-token form (servers up to 2.9) and the form with domain, account and token", () => {
    const expected = { streamSeq: 42, deliverySeq: 7, redelivered: false, storedMicros: 1_700_000_000_123_456, pending: 9 };
    assert.deepEqual(parseAckSubject("$JS.ACK.tx.c.1.42.7.1700000000123456789.9"), expected);
    assert.deepEqual(parseAckSubject("$JS.ACK._.ACCHASH.tx.c.1.42.7.1700000000123456789.9.rnd"), expected);
    assert.deepEqual(parseAckSubject("$JS.ACK.hub.ACCHASH.tx.c.3.42.9.1700000000123456789.0"), { ...expected, deliverySeq: 9, redelivered: true, pending: 0 });
  });

  it("keeps µs exact although the nanosecond count is beyond a double's exact range", () => {
    assert.equal(parseAckSubject("$JS.ACK.tx.c.1.1.1.1763900000999999999.0")?.storedMicros, 1_763_900_000_999_999);
  });

  it("is undefined for anything that is not an ack subject", () => {
    for (const s of ["", "$JS.ACK", "_INBOX.abc", "$JS.ACK.tx.c.1.2", "$JS.NAK.tx.c.1.42.7.1700000000123456789.9"]) assert.equal(parseAckSubject(s), undefined, s);
  });
});
