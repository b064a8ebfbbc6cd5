import type { Command } from "commander";
import { NotFoundError } from "../../errors.js";
import { activeVersions, type RegistrySnapshot } from "../../registry/registry-records.js";
import { withStore } from "../context.js";
import { formatTable, printJson } from "../output.js";

/** One row per registry object, for `registry list`. */
function listing(snapshot: RegistrySnapshot, all: boolean): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = snapshot.entities.map((e) => ({ kind: "entity", name: e.spec.name, versions: "", owner: e.spec.owner, updated: e.updatedAt }));
  const names = [...new Set(snapshot.views.map((v) => v.name))].sort();
  for (const name of names) {
    const versions = all ? snapshot.views.filter((v) => v.name === name) : activeVersions(snapshot, name);
    const latest = versions.at(-1);
    if (latest === undefined) continue;
    const label = versions.map((v) => `v${v.version}${v.removedAt === null ? "" : " (removed)"}`).join(", ");
    rows.push({ kind: "featureView", name, versions: label, owner: latest.spec.owner, updated: latest.updatedAt });
  }
  for (const s of snapshot.services) {
    rows.push({ kind: "featureService", name: s.spec.name, versions: Object.entries(s.bindings).map(([v, n]) => `${v}@v${n}`).join(", "), owner: s.spec.owner, updated: s.updatedAt });
  }
  return rows;
}

/** Everything the registry holds about one name. */
export function describeObject(snapshot: RegistrySnapshot, name: string): Record<string, unknown> {
  const entity = snapshot.entities.find((e) => e.spec.name === name);
  if (entity !== undefined) return { kind: "entity", ...entity };
  const versions = snapshot.views.filter((v) => v.name === name);
  if (versions.length > 0) {
    const services = (version: number): string[] => snapshot.services.filter((s) => s.bindings[name] === version).map((s) => s.spec.name);
    return { kind: "featureView", name, versions: versions.map((v) => ({ ...v, services: services(v.version) })) };
  }
  const service = snapshot.services.find((s) => s.spec.name === name);
  if (service !== undefined) return { kind: "featureService", ...service };
  throw new NotFoundError("registry object", name);
}

export function registerRegistry(program: Command): void {
  const registry = program.command("registry").description("inspect the registry");
  registry
    .command("list")
    .description("list entities, feature views (with versions) and feature services")
    .option("--all", "include removed versions")
    .option("--json", "machine-readable output")
    .action(async (options: { all?: boolean; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const rows = listing(await store.snapshot(), options.all === true);
        if (options.json === true) printJson(rows);
        else console.log(rows.length === 0 ? "The registry is empty: run `strata apply`." : formatTable(rows));
      });
    });
  registry
    .command("show <name>")
    .description("show one entity, feature view (every version) or feature service")
    .option("--json", "machine-readable output")
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const described = describeObject(await store.snapshot(), name);
        if (options.json === true) printJson(described);
        else console.log(JSON.stringify(described, null, 2));
      });
    });
  registry
    .command("remove <view>")
    .description("remove one old version of a feature view (the latest goes by deleting the view from the definitions)")
    .requiredOption("--version <n>", "the version to remove, e.g. 1", (v) => Number.parseInt(v.replace(/^v/, ""), 10))
    .option("--json", "machine-readable output")
    .action(async (view: string, options: { version: number; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const revision = await store.removeVersion(view, options.version);
        if (options.json === true) printJson({ view, version: options.version, revision });
        else console.log(`Removed ${view} v${options.version}: registry revision ${revision}.`);
      });
    });
  registry
    .command("history")
    .description("list registry commits (who applied what, when)")
    .option("--json", "machine-readable output")
    .action(async (options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const history = await store.registry.history();
        if (options.json === true) printJson(history);
        else for (const h of history) console.log(`revision ${h.revision}  ${h.appliedAt}  ${h.actor}\n${h.summary.map((s) => `    ${s}`).join("\n")}`);
      });
    });
}
