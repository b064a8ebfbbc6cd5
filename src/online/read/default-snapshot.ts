import { readFile } from "node:fs/promises";
import { valueTypeFromName } from "../../definitions/value-type.js";
import { decodeValue, type EncodedValue } from "../value-codec.js";

/** The file `strata snapshot build` writes and the server loads at start-up. */
export interface SnapshotFile {
  readonly format: "strata-default-snapshot/1";
  readonly project: string;
  readonly generatedAt: string;
  /** "view:feature" → its type and default value (encoded as the online store encodes values). */
  readonly features: Readonly<Record<string, { readonly type: string; readonly value: EncodedValue; readonly source: "declared" | "median" | "most-frequent" | "empty-window" | "none" }>>;
}

/**
 * Default feature values served when the online tier is degraded: in memory, no network hop.
 * A feature with no default (or whose type changed since the snapshot) is served as null.
 */
export class DefaultSnapshot {
  private constructor(private readonly values: ReadonlyMap<string, { type: string; value: unknown }>) {}

  static empty(): DefaultSnapshot {
    return new DefaultSnapshot(new Map());
  }

  static fromFile(file: SnapshotFile): DefaultSnapshot {
    const values = new Map<string, { type: string; value: unknown }>();
    for (const [ref, f] of Object.entries(file.features)) {
      const type = valueTypeFromName(f.type);
      if (type !== undefined) values.set(ref, { type: f.type, value: decodeValue(type, f.value) });
    }
    return new DefaultSnapshot(values);
  }

  /** Loads the snapshot file; a missing file gives an empty snapshot (every default null). */
  static async load(path: string): Promise<DefaultSnapshot> {
    const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    return text === undefined ? DefaultSnapshot.empty() : DefaultSnapshot.fromFile(JSON.parse(text) as SnapshotFile);
  }

  value(view: string, feature: string, type: string): unknown {
    const found = this.values.get(`${view}:${feature}`);
    return found === undefined || found.type !== type ? null : found.value;
  }
}
