/**
 * Lua scripts the Redis cache runs (atomic on the shard that owns the key). Each has a
 * KEYS/ARGV/Output header; codes they return are turned into results in redis-cache.ts.
 */

/**
 * Stores a cache entry unless the cached one was written later (compare-and-set on write time).
 *
 *   KEYS[1]  the entry key
 *   ARGV[1]  write time of the new entry (µs, decimal)
 *   ARGV[2]  the encoded entry ("v1|writeTs|...")
 *   ARGV[3]  time to live (ms)
 *   Output   1 stored, 0 kept the later entry
 *
 * An equal write time is the same record again (an early refresh): it is stored, which renews
 * the expiry.
 */
export const POPULATE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local written = tonumber(string.match(current, '^v1|(%d+)|'))
  if written and written > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;
