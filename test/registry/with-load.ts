import type { RegistrySnapshot } from "../../src/registry/registry-records.js";
import type { RegistryStore } from "../../src/registry/registry-store.js";

/** The store, with `load` replaced (to hold writers at the point where they have read): every other method passes through. */
export function withLoad(store: RegistryStore, load: () => Promise<RegistrySnapshot>): RegistryStore {
  return new Proxy(store, {
    get: (target, name, receiver) => (name === "load" ? load : (Reflect.get(target, name, receiver) as unknown)),
  });
}
