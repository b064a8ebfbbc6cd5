import type { Command } from "commander";
import { applyTenantAcl } from "../../online/cache/tenant-acl.js";
import { withStore } from "../context.js";
import { printJson } from "../output.js";

export function registerCache(program: Command): void {
  program
    .command("cache")
    .description("the Redis cache")
    .command("acl")
    .description("create this project's Redis user (online.cache.username/password), confined to its own keys and the cache's commands, on every node")
    .option("--admin-user <name>", "a Redis user allowed to run ACL SETUSER (default: the default user)")
    .option("--json", "machine-readable output")
    .action(async (options: { adminUser?: string; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        // The admin password only from the environment: never in a shell history or strata.yaml.
        const result = await applyTenantAcl(store.config.online.cache, store.config.project, { username: options.adminUser, password: process.env.STRATA_REDIS_ADMIN_PASSWORD });
        const user = store.config.online.cache.username!;
        if (options.json === true) printJson({ user, ...result });
        else console.log(`Redis user "${user}" may use only keys ${result.keyPattern} and the cache's commands (on ${result.nodes} node${result.nodes === 1 ? "" : "s"}).`);
      });
    });
}
