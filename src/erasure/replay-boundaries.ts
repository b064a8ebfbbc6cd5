import type { FeatureViewSpec } from "../definitions/specs.js";
import type { ErasureRecord } from "./erasure-record.js";
import { coversView, entityKeyMatches, exactEntityKey, rowMatches, type Subject } from "./subject.js";

/**
 * The replay boundaries of one view, from the erasure ledger: an event of an erased subject with
 * event time at or before the erasure is dropped wherever it arrives later (a stream replayed
 * from its start). Subjects naming all the view's join keys are looked up by entity key; others
 * (a customer in a view keyed by customer and merchant) are matched field by field.
 */
export class ReplayBoundaries {
  private readonly byKey = new Map<string, number>();
  private readonly partial: { subject: Subject; boundary: number }[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly view: string,
    private readonly spec: FeatureViewSpec,
  ) {}

  /** Takes the erasures of this view not seen yet; returns them. */
  update(ledger: readonly ErasureRecord[]): ErasureRecord[] {
    const fresh = ledger.filter((e) => !this.seen.has(e.id) && e.views.includes(this.view) && coversView(this.spec, e.subject));
    for (const e of fresh) {
      this.seen.add(e.id);
      const key = exactEntityKey(this.spec, e.subject);
      if (key === undefined) this.partial.push({ subject: e.subject, boundary: e.boundaryMicros });
      else this.byKey.set(key, Math.max(this.byKey.get(key) ?? -Infinity, e.boundaryMicros));
    }
    return fresh;
  }

  /**
   * Whether an event (its entity key, its join key fields, made only if an erasure names part of
   * a key, and its event time, µs) falls behind an erasure.
   */
  drops(entityKey: string, keyFields: () => Readonly<Record<string, unknown>>, eventTs: number): boolean {
    const boundary = this.byKey.get(entityKey);
    if (boundary !== undefined && eventTs <= boundary) return true;
    if (this.partial.length === 0) return false;
    const fields = keyFields();
    return this.partial.some((p) => eventTs <= p.boundary && rowMatches(fields, p.subject));
  }

  /** Whether a stored state (newest event at `maxTs`) is from before an erasure of its key: then it is not loaded. */
  dropsState(entityKey: string, maxTs: number): boolean {
    const boundary = this.byKey.get(entityKey);
    if (boundary !== undefined && maxTs <= boundary) return true;
    return this.partial.some((p) => maxTs <= p.boundary && entityKeyMatches(this.spec, p.subject, entityKey));
  }

  /** Of `keys` (entity keys held in memory), those belonging to an erasure's subject. */
  keysOf(erasure: ErasureRecord, keys: Iterable<string>): string[] {
    const exact = exactEntityKey(this.spec, erasure.subject);
    if (exact !== undefined) return [exact];
    return [...keys].filter((k) => entityKeyMatches(this.spec, erasure.subject, k));
  }
}
