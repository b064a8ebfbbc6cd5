import type { Command } from "commander";
import { filterAudit, type AuditFilter } from "../../audit/audit-filter.js";
import { InvalidRequestError } from "../../errors.js";
import { withStore } from "../context.js";
import { formatTable, printJson } from "../output.js";

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("the project's hash-chained audit log of management actions");
  audit
    .command("verify")
    .description("check the chain (and signatures, when the audit key is set); exit 1 on the first altered, deleted, inserted, reordered or truncated entry")
    .option("--anchor <seq:hash>", "an entry kept outside the log (from `strata audit head`): detects a truncated tail")
    .option("--json", "machine-readable output")
    .action(async (options: { anchor?: string; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const report = await store.verifyAudit(options.anchor);
        if (options.json === true) printJson(report);
        else if (report.problem === null) console.log(`The audit log is intact: ${report.entries} entries${report.signaturesChecked ? ", all signed" : " (signatures not checked: no audit key)"}; head ${report.head ?? "none"}.`);
        else console.log(`The audit log is NOT intact: entry ${report.problem.seq} ${report.problem.kind}: ${report.problem.detail}.`);
        if (report.problem !== null) process.exitCode = 1;
      });
    });
  audit
    .command("head")
    .description("print the last entry as seq:hash, to keep outside the log (an anchor for `verify --anchor`)")
    .action(async (_options: unknown, command: Command) => {
      await withStore(command, async (store) => {
        // An anchor vouches for everything before it: none for a chain that does not verify.
        const report = await store.verifyAudit();
        if (report.problem !== null) throw new InvalidRequestError(`the audit log does not verify (entry ${report.problem.seq} ${report.problem.kind}): no anchor given; see \`strata audit verify\``);
        console.log(report.head ?? "0:none");
      });
    });
  audit
    .command("show")
    .description("list entries, filtered by actor, action, object and time")
    .option("--actor <name>")
    .option("--action <action>", "e.g. apply, ingest, materialize, backfill, remove-version")
    .option("--object <object>", "e.g. featureView:driver_stats, or a prefix ending in * (featureView:*)")
    .option("--since <time>", "ISO 8601, inclusive")
    .option("--until <time>", "ISO 8601, inclusive")
    .option("--json", "machine-readable output")
    .action(async (options: AuditFilter & { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const entries = filterAudit(await store.registry.auditRows(), options);
        if (options.json === true) printJson(entries);
        else if (entries.length === 0) console.log("No audit entries match.");
        else console.log(formatTable(entries.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, object: e.object, details: JSON.stringify(e.details) }))));
      });
    });
}
