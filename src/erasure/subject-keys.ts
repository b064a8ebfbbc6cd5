import type { OnlineStore } from "../online/online-store.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { entityKeyMatches, exactEntityKey, type Subject } from "./subject.js";

/** Keys per page when a view's keys are scanned (the subject names only some of its join keys). */
const SCAN_PAGE = 5000;

/** The subject's entity keys in one view version: the one key, or those a scan of the durable store finds. */
export async function subjectKeys(durable: OnlineStore, record: ViewVersionRecord, subject: Subject): Promise<string[]> {
  const exact = exactEntityKey(record.spec, subject);
  if (exact !== undefined) return [exact];
  const ref = { view: record.name, version: record.version };
  const found: string[] = [];
  for (let after: string | null = null; ; ) {
    const page = await durable.listKeys(ref, after, SCAN_PAGE);
    found.push(...page.filter((k) => entityKeyMatches(record.spec, subject, k)));
    if (page.length < SCAN_PAGE) return found;
    after = page.at(-1)!;
  }
}
