import { registryConformance } from "./registry-conformance.js";
import { sqliteBackend } from "./registry-backends.js";

/** The embedded registry (one SQLite file per test, in a temp folder) against the store contract. */
registryConformance(sqliteBackend());
