import { eraseFromServingLog, servingLogRemaining } from "../serving-log/erase-serving-log.js";
import type { ErasureContext, ErasureCopy } from "./erasure-copy.js";

/** The subject as the serving log names it: one `join_key=value` per key, integer keys in canonical decimal (it logs 42 for 042). */
function subjectKeys(ctx: ErasureContext): string[] {
  const types = new Map(ctx.views.flatMap((v) => v.spec.joinKeys).map((k) => [k.name, k.type]));
  return Object.entries(ctx.erasure.subject).map(([k, v]) => `${k}=${types.get(k) !== "String" && /^-?\d+$/.test(v) ? BigInt(v).toString() : v}`);
}

/** The serving log (responses as served): the rows of the subject's entities are removed from its files. */
export const servingLogCopy: ErasureCopy = {
  name: "serving-log",
  async erase(ctx) {
    const report = await eraseFromServingLog(ctx.duck, ctx.offlineRoot, subjectKeys(ctx));
    return [{ copy: "serving-log", count: report.rows, detail: `${report.rows} logged response row(s) removed from ${report.files} file(s)` }];
  },
  async remaining(ctx) {
    const rows = await servingLogRemaining(ctx.duck, ctx.offlineRoot, subjectKeys(ctx));
    return [{ copy: "serving-log", count: rows, detail: `${rows} logged response row(s) of the subject` }];
  },
};
