import { setTimeout as sleep } from "node:timers/promises";
import { eraseFromServingLog, servingLogRemaining } from "../serving-log/erase-serving-log.js";
import type { ErasureContext, ErasureCopy } from "./erasure-copy.js";
import { subjectTexts } from "./subject.js";

/** The subject as the serving log names it (any view the erasure reaches has its join keys, typed alike). */
const subjectKeys = (ctx: ErasureContext): string[] => subjectTexts(ctx.views[0]!.spec, ctx.erasure.subject);

/**
 * The serving log (responses as served): the rows of the subject's entities served at or before
 * the boundary are removed from its files, once servers have written what they held then.
 */
export const servingLogCopy: ErasureCopy = {
  name: "serving-log",
  async erase(ctx) {
    const settled = ctx.erasure.boundaryMicros / 1000 + ctx.servingLogSettleMs - Date.now();
    if (settled > 0) await sleep(settled);
    const report = await eraseFromServingLog(ctx.duck, ctx.offlineRoot, subjectKeys(ctx), ctx.erasure.boundaryMicros);
    return [{ copy: "serving-log", count: report.rows, detail: `${report.rows} logged response row(s) removed from ${report.files} file(s)` }];
  },
  async remaining(ctx) {
    const rows = await servingLogRemaining(ctx.duck, ctx.offlineRoot, subjectKeys(ctx), ctx.erasure.boundaryMicros);
    return [{ copy: "serving-log", count: rows, detail: `${rows} logged response row(s) of the subject` }];
  },
};
