/**
 * Probabilistic early expiration (XFetch, Vattani et al. 2015): a reader refreshes an entry
 * before it expires with a probability that rises as expiry nears, faster for entries that are
 * costly to recompute (`deltaMs`). One reader refreshes early; the rest keep serving the entry,
 * so expiry never sends every reader to the durable store at once.
 *
 * @example
 * shouldRefreshEarly(Date.now(), entry.expiresAt, entry.deltaMs, 1); // usually false until near expiry
 */
export function shouldRefreshEarly(nowMs: number, expiresAt: number, deltaMs: number, beta: number, random: () => number = Math.random): boolean {
  // -log(u) for u in (0, 1] is an Exp(1) draw; 1 - random() avoids log(0).
  return nowMs - deltaMs * beta * Math.log(1 - random()) >= expiresAt;
}
