/**
 * A child process for the erase crash test: erases one subject of a project.
 *
 *   node erase-child.js <projectDir> <join key=value>
 *
 * STRATA_KILL_AFTER=<step>  SIGKILLs itself once that step (online, offline, serving-log) is recorded.
 */
import { FeatureStore } from "../../src/feature-store.js";
import { parseSubject } from "../../src/erasure/subject.js";

async function main(): Promise<void> {
  const [dir, pair] = process.argv.slice(2);
  if (dir === undefined || pair === undefined) throw new Error("usage: erase-child.js <projectDir> <key=value>");
  const store = await FeatureStore.open(dir, { actor: "erase-child" });
  try {
    const receipt = await store.erase({ subject: parseSubject([pair]) }, { onStep: (step) => (process.env.STRATA_KILL_AFTER === step ? process.kill(process.pid, "SIGKILL") : undefined) });
    process.stdout.write(`${JSON.stringify(receipt)}\n`);
  } finally {
    await store.close();
  }
}

await main();
