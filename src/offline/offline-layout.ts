import { join } from "node:path";

/**
 * The store-owned offline layout (DESIGN.md):
 *   <offline>/<view>/v<version>/date=YYYY-MM-DD/part-<ingest id>-<n>.parquet
 * plus bookkeeping in underscore folders, which Hive-style readers (Spark, Trino, Athena) skip:
 *   _commits/<seq>.json   one per committed ingestion: the files it made visible
 *   _pending/<id>.json    an ingestion in progress (pid), so a sweep can tell crashed from running
 *   _staging/<id>/        files being written, invisible until renamed into place and committed
 */
export class ViewVersionLayout {
  readonly dir: string;

  constructor(offlineRoot: string, view: string, version: number) {
    this.dir = join(offlineRoot, view, `v${version}`);
  }

  get commitsDir(): string {
    return join(this.dir, "_commits");
  }

  get pendingDir(): string {
    return join(this.dir, "_pending");
  }

  stagingDir(ingestId: string): string {
    return join(this.dir, "_staging", ingestId);
  }

  commitFile(seq: number): string {
    return join(this.commitsDir, `${String(seq).padStart(10, "0")}.json`);
  }

  pendingFile(ingestId: string): string {
    return join(this.pendingDir, `${ingestId}.json`);
  }

  /** A data file path relative to `dir`, as commits record it. */
  static partPath(date: string, ingestId: string, index: number): string {
    return join(`date=${date}`, `part-${ingestId}-${index}.parquet`);
  }
}

/** The ingest id a data file name carries (`part-<id>-<n>.parquet`), if any. */
export function ingestIdOf(fileName: string): string | undefined {
  return /^part-([0-9a-z]+)-\d+\.parquet$/.exec(fileName)?.[1];
}
