import { parseJsonExact } from "../server/json.js";
import { consumerName } from "../stream/consumer-name.js";
import type { ErasureContext, ErasureCopy } from "./erasure-copy.js";
import { rowMatches, type Subject } from "./subject.js";

/** What an erased dead letter's payload becomes; the row and its sequence stay, so a replay still skips it. */
export const REDACTED_PAYLOAD = "!erased";
const PAGE = 1_000;

/**
 * Whether a refused event's raw payload is the subject's: an event (a JSON object) by its join
 * key fields; a malformed one, which cannot be read by field, when it names every value of the
 * subject as a whole token (this may take a stranger's too: a refused event's payload is only
 * kept for debugging, and losing one is the safe side). Built once per subject, tested per payload.
 */
export function payloadMatcher(subject: Subject): (payload: string) => boolean {
  const tokens = Object.values(subject).map((value) => new RegExp(`(^|[^\\w-])${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w-])`));
  return (payload) => {
    if (payload === REDACTED_PAYLOAD) return false;
    let event: unknown;
    try {
      event = parseJsonExact(payload);
    } catch {
      event = undefined;
    }
    if (event !== null && typeof event === "object" && !Array.isArray(event)) return rowMatches(event as Record<string, unknown>, subject);
    return tokens.every((token) => token.test(payload));
  };
}

/** Each stream consumer of the erasure's aggregation views, with the sequences of its dead letters that hold the subject. */
async function* subjectLetters(ctx: ErasureContext, recordedBy = Infinity): AsyncGenerator<{ consumer: string; seqs: number[] }> {
  const matches = payloadMatcher(ctx.erasure.subject);
  for (const record of ctx.views) {
    if (record.spec.aggregation?.nats === undefined) continue;
    const consumer = consumerName(ctx.project, record);
    for (let after = 0; ; ) {
      const page = await ctx.online.durable.deadLetters(consumer, after, PAGE);
      const seqs = page.filter((d) => Date.parse(d.recordedAt) * 1000 <= recordedBy && matches(d.payload)).map((d) => d.seq);
      if (seqs.length > 0) yield { consumer, seqs };
      if (page.length < PAGE) break;
      after = page.at(-1)!.seq;
    }
  }
}

/**
 * Stream dead letters: events a processor refused (late or malformed) are kept with their raw
 * payloads in the durable store; the subject's payloads are replaced by REDACTED_PAYLOAD.
 */
export const deadLetterCopy: ErasureCopy = {
  name: "dead-letters",
  async erase(ctx) {
    let redacted = 0;
    for await (const { consumer, seqs } of subjectLetters(ctx)) redacted += await ctx.online.durable.redactDeadLetters(consumer, seqs, REDACTED_PAYLOAD);
    return [{ copy: "dead-letters", count: redacted, detail: `${redacted} refused stream event(s) of the subject: payload erased, sequence kept` }];
  },
  async remaining(ctx) {
    let held = 0;
    // Malformed events arriving after the erasure are new data, as any other.
    for await (const { seqs } of subjectLetters(ctx, ctx.erasure.boundaryMicros)) held += seqs.length;
    return [{ copy: "dead-letters", count: held, detail: `${held} refused stream event(s) holding the subject` }];
  },
};
