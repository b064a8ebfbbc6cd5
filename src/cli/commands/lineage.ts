import type { Command } from "commander";
import type { Lineage } from "../../registry/lineage.js";
import { withStore } from "../context.js";
import { printJson } from "../output.js";

/** source → view versions → services, as an indented tree. */
export function renderLineage(lineage: Lineage): string {
  const lines = [`${lineage.kind} ${lineage.name}`];
  for (const view of lineage.views) {
    const s = view.source;
    lines.push(`  source ${s.path} (${s.format}; event time ${s.timestampField}${s.createdTimestampField === null ? "" : `, created ${s.createdTimestampField}`})`);
    lines.push(`    └─ featureView ${view.name} (entities: ${view.entities.join(", ")})`);
    for (const v of view.versions) {
      const state = v.removedAt === null ? "" : `, removed ${v.removedAt}`;
      lines.push(`         ├─ v${v.version}  hash ${v.hash.slice(0, 12)}  created ${v.createdAt}${state}`);
      for (const service of v.services) lines.push(`         │    └─ featureService ${service}`);
    }
  }
  return lines.join("\n");
}

export function registerLineage(program: Command): void {
  program
    .command("lineage <name>")
    .description("trace a view, service or entity: source → view versions → services")
    .option("--json", "machine-readable output")
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const lineage = await store.lineage(name);
        if (options.json === true) printJson(lineage);
        else console.log(renderLineage(lineage));
      });
    });
}
