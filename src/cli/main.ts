#!/usr/bin/env node
import { Command } from "commander";
import { registerAudit } from "./commands/audit.js";
import { registerDemo } from "./commands/demo.js";
import { registerExplain } from "./commands/explain.js";
import { registerCache } from "./commands/cache.js";
import { registerToken } from "./commands/token.js";
import { registerErase } from "./commands/erase.js";
import { registerBackfill } from "./commands/backfill.js";
import { registerIngest } from "./commands/ingest.js";
import { registerParity } from "./commands/parity.js";
import { registerStream } from "./commands/stream.js";
import { registerInit } from "./commands/init.js";
import { registerLineage } from "./commands/lineage.js";
import { registerPlanApply } from "./commands/plan-apply.js";
import { registerRegistry } from "./commands/registry.js";
import { registerTrainingSet } from "./commands/training-set.js";
import { registerGet, registerMaterialize, registerSnapshot } from "./commands/online.js";
import { registerServe } from "./commands/serve.js";
import { reportError } from "./output.js";

/** `strata`: a thin layer over the library; every command takes -C <project-dir>. */
const program = new Command("strata")
  .description("Strata: features as code, point-in-time-correct training sets, fast online serving")
  .option("-C, --project-dir <dir>", "the project folder (holding strata.yaml)", ".")
  .showHelpAfterError();

for (const register of [registerInit, registerPlanApply, registerRegistry, registerLineage, registerIngest, registerBackfill, registerStream, registerParity, registerTrainingSet, registerMaterialize, registerSnapshot, registerServe, registerGet, registerExplain, registerAudit, registerToken, registerErase, registerCache, registerDemo]) {
  register(program);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = reportError(error);
});
