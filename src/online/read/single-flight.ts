/**
 * At most one load per key in flight: callers asking for a key already being loaded share that
 * load's promise instead of starting another.
 */
export class SingleFlight<V> {
  private readonly inFlight = new Map<string, Promise<V>>();

  get(key: string): Promise<V> | undefined {
    return this.inFlight.get(key);
  }

  /** Registers `load` for every key not yet in flight; returns one promise per key. */
  claim(keys: readonly string[], load: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>): Map<string, Promise<V>> {
    const result = new Map<string, Promise<V>>();
    const fresh = keys.filter((k) => {
      const existing = this.inFlight.get(k);
      if (existing !== undefined) result.set(k, existing);
      return existing === undefined;
    });
    if (fresh.length === 0) return result;
    const batch = load(fresh);
    for (const key of fresh) {
      const one = batch.then((m) => m.get(key) as V);
      this.inFlight.set(key, one);
      result.set(key, one);
      void one.then(
        () => this.inFlight.delete(key),
        () => this.inFlight.delete(key),
      );
    }
    return result;
  }
}
