/**
 * Child process for materialization tests: `node materialize-child.js <projectDir> <endIso>`
 * materializes every view up to end and prints the reports plus the peak JS heap (sampled).
 */
import { FeatureStore } from "../../src/feature-store.js";

const [dir, end] = process.argv.slice(2);
let peakHeap = 0;
const sample = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 20);
const store = await FeatureStore.open(dir, { actor: "materialize-child" });
const reports = await store.materialize({ end: new Date(end!) });
await store.close();
clearInterval(sample);
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
process.stdout.write(`${JSON.stringify({ reports, peakHeapMb: peakHeap / 2 ** 20 })}\n`);
