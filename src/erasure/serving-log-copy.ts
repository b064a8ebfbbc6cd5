import { eraseFromServingLog, servingLogRemaining } from "../serving-log/erase-serving-log.js";
import type { ErasureCopy } from "./erasure-copy.js";

/** The subject as the serving log names it: one `join_key=value` per key. */
const subjectKeys = (subject: Readonly<Record<string, string>>): string[] => Object.entries(subject).map(([k, v]) => `${k}=${v}`);

/** The serving log (responses as served): the rows of the subject's entities are removed from its files. */
export const servingLogCopy: ErasureCopy = {
  name: "serving-log",
  async erase(ctx) {
    const report = await eraseFromServingLog(ctx.duck, ctx.offlineRoot, subjectKeys(ctx.erasure.subject));
    return [{ copy: "serving-log", count: report.rows, detail: `${report.rows} logged response row(s) removed from ${report.files} file(s)` }];
  },
  async remaining(ctx) {
    const rows = await servingLogRemaining(ctx.duck, ctx.offlineRoot, subjectKeys(ctx.erasure.subject));
    return [{ copy: "serving-log", count: rows, detail: `${rows} logged response row(s) of the subject` }];
  },
};
