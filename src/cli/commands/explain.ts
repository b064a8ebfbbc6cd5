import type { Command } from "commander";
import type { Explanation } from "../../serving-log/explain-request.js";
import { withStore } from "../context.js";
import { formatTable, printJson } from "../output.js";

/** A served value as text, exactly (numbers with every digit, strings raw). */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return value.toString();
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Per entity row: its join keys, then a table of what each feature served. */
export function renderExplanation(e: Explanation): string {
  const lines = [`request ${e.requestId}, served ${e.servedAt}${e.service === null ? " (feature list)" : `, service ${e.service}`}${e.degraded ? ", degraded" : ""}`];
  for (const row of e.rows) {
    const keys = Object.entries(row.entity).map(([k, v]) => `${k}=${valueText(v)}`).join(", ");
    lines.push("", `row ${row.rowIndex}: ${keys}`);
    const table = formatTable(
      row.features.map((f) => ({ view: f.view, version: `v${f.version}`, feature: f.feature.slice(f.view.length + 1), value: valueText(f.value), status: f.status, event_timestamp: f.eventTimestamp ?? "" })),
      ["view", "version", "feature", "value", "status", "event_timestamp"],
    );
    lines.push(...table.split("\n").map((l) => `  ${l}`));
  }
  return lines.join("\n");
}

export function registerExplain(program: Command): void {
  program
    .command("explain <request-id>")
    .description("show what a logged online request was served: per entity row, each feature's view version, value, status and event time")
    .option("--json", "machine-readable output")
    .action(async (requestId: string, options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const explanation = await store.explainRequest(requestId);
        if (options.json === true) printJson(explanation);
        else console.log(renderExplanation(explanation));
      });
    });
}
