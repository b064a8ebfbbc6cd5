import { eraseFromServingLog, servingLogRemaining } from "../serving-log/erase-serving-log.js";
import type { ErasureContext, ErasureCopy } from "./erasure-copy.js";
import { subjectTexts } from "./subject.js";

/** The subject as the serving log names it (any view the erasure reaches has its join keys, typed alike). */
const subjectKeys = (ctx: ErasureContext): string[] => subjectTexts(ctx.views[0]!.spec, ctx.erasure.subject);

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
