import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseJsonExact, toJsonText } from "../../src/server/json.js";

describe("request JSON", () => {
  it("keeps integers beyond 2^53 exact as bigints, and leaves everything else as JSON.parse does", () => {
    const text = `{"a":[9007199254740993,-9223372036854775808,9007199254740991,1.2345678901234567,1234567890123456e2],"s":"12345678901234567 \\"9007199254740993\\"","n":{"k":18446744073709551615}}`;
    assert.deepEqual(parseJsonExact(text), {
      a: [9007199254740993n, -9223372036854775808n, 9007199254740991, 1.2345678901234567, 1234567890123456e2],
      s: '12345678901234567 "9007199254740993"',
      n: { k: 18446744073709551615n },
    });
    assert.deepEqual(parseJsonExact('{"x":[1,2.5,"3"]}'), JSON.parse('{"x":[1,2.5,"3"]}'));
  });

  it("writes bigints back as plain numbers", () => {
    assert.equal(toJsonText({ v: [9007199254740993n, 1, "9007199254740993"] }), '{"v":[9007199254740993,1,"9007199254740993"]}');
  });
});
