import type { StoredRecord, StoredState } from "../online/online-store.js";
import { SPLIT_MARK } from "./key-state-split.js";
import { KeyState } from "./tile-state.js";
import type { HopGroup } from "./tile-partials.js";

/**
 * A stored aggregation state as one record holding the whole state: a head joined with its
 * sealed tiles (see key-state-split.ts). What the cache holds and online reads decode.
 */
export function wholeState(groups: readonly HopGroup[], stored: StoredState): StoredRecord {
  const { sealed, ...record } = stored;
  return record.values.startsWith(SPLIT_MARK) ? { ...record, values: KeyState.decode(groups, record.values, sealed).encode() } : record;
}
