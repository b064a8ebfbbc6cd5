import type { Command } from "commander";
import type { CopyReport, ErasureRecord } from "../../erasure/erasure-record.js";
import { parseSubject } from "../../erasure/subject.js";
import { NotFoundError } from "../../errors.js";
import { withStore } from "../context.js";
import { formatTable, printJson } from "../output.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const reportTable = (reports: readonly CopyReport[]): string => formatTable(reports.map((r) => ({ copy: r.copy, count: r.count, detail: r.detail })));

function printReceipt(e: ErasureRecord): void {
  console.log(`Erasure ${e.id} of ${Object.entries(e.subject).map(([k, v]) => `${k}=${v}`).join(", ")} (${e.views.join(", ")}): ${e.status}, boundary ${new Date(e.boundaryMicros / 1000).toISOString()}`);
  console.log(reportTable(e.steps));
  if (e.offlinePending) console.log("Offline files: rows hidden from training sets by the tombstone; `strata compact` removes them.");
}

export function registerErase(program: Command): void {
  program
    .command("erase")
    .description("erase a data subject from every copy: online store, cache, offline files, serving log, streaming state; prints the receipt")
    .option("--entity <key=value>", "the data subject, e.g. customer_id=42 (repeatable for several join keys)", collect)
    .option("--views <names>", "only these feature views (comma-separated; default: every view with the join key)")
    .option("--reason <text>", "why (kept in the ledger and the audit log)")
    .option("--defer-compaction", "hide offline rows at once but leave rewriting the files to `strata compact`")
    .option("--verify <key=value>", "instead of erasing: scan every copy for what remains of the subject (repeatable); exit 1 if anything does", collect)
    .option("--json", "machine-readable output")
    .action(async (options: { entity?: string[]; views?: string; reason?: string; deferCompaction?: boolean; verify?: string[]; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        if (options.verify !== undefined) {
          const found = await store.verifyErasure(parseSubject(options.verify));
          if (found === undefined) throw new NotFoundError("erasure of", options.verify.join(","), "erase it first: strata erase --entity ...");
          const left = found.remaining.reduce((n, r) => n + r.count, 0);
          if (options.json === true) printJson({ erasure: found.erasure.id, remaining: found.remaining, clean: left === 0 });
          else console.log(`${left === 0 ? "Nothing remains" : `${left} trace(s) remain`} of erasure ${found.erasure.id}:\n${reportTable(found.remaining)}`);
          if (left > 0) process.exitCode = 1;
          return;
        }
        const erasure = await store.erase({ subject: parseSubject(options.entity ?? []), views: options.views?.split(",").map((v) => v.trim()), reason: options.reason, deferCompaction: options.deferCompaction });
        if (options.json === true) printJson(erasure);
        else printReceipt(erasure);
      });
    });
  program
    .command("compact")
    .description("rewrite the offline files of erasures that deferred it (erase --defer-compaction)")
    .option("--json", "machine-readable output")
    .action(async (options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const done = await store.compact();
        if (options.json === true) printJson(done);
        else if (done.length === 0) console.log("No erasure waits for compaction.");
        else for (const e of done) printReceipt(e);
      });
    });
}
