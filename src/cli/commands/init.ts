import type { Command } from "commander";
import { initProject } from "../../project/init-project.js";

export function registerInit(program: Command): void {
  program
    .command("init <dir>")
    .description("create a project folder with the driver example (strata.yaml, features.ts, data/)")
    .option("--name <project>", "project name (default: from the folder name)")
    .action(async (dir: string, options: { name?: string }) => {
      const files = await initProject(dir, options.name);
      console.log(`Created ${dir}:\n${files.map((f) => `  ${f}`).join("\n")}\nNext: strata -C ${dir} plan`);
    });
}
