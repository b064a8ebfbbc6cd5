import { resolve } from "node:path";
import type { Command } from "commander";
import { initProject } from "../../project/init-project.js";
import { printJson } from "../output.js";

export function registerInit(program: Command): void {
  program
    .command("init <dir>")
    .description("create a project folder with the driver example (strata.yaml, features.ts, data/)")
    .option("--name <project>", "project name (default: from the folder name)")
    .option("--json", "machine-readable output")
    .action(async (dir: string, options: { name?: string; json?: boolean }) => {
      const files = await initProject(dir, options.name);
      if (options.json === true) printJson({ dir: resolve(dir), files });
      else console.log(`Created ${dir}:\n${files.map((f) => `  ${f}`).join("\n")}\nNext: strata -C ${dir} plan`);
    });
}
