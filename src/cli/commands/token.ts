import type { Command } from "commander";
import { withStore } from "../context.js";
import { formatTable, printJson } from "../output.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerToken(program: Command): void {
  const token = program.command("token").description("API tokens for the feature server (server.requireTokens)");
  token
    .command("create <name>")
    .description("create a token; its secret is printed once and stored only as a hash")
    .option("--scope <scope>", "read:<view>, write:<view> or admin; a view may be * or end in * (repeatable)", collect)
    .option("--quota <n>", "requests per second at most (429 with Retry-After above)", (v) => Number(v))
    .option("--json", "machine-readable output")
    .action(async (name: string, options: { scope?: string[]; quota?: number; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const secret = await store.createToken(name, options.scope ?? [], options.quota ?? null);
        if (options.json === true) printJson({ name, token: secret });
        else console.log(`Token "${name}" (keep it now, it is not shown again):\n${secret}`);
      });
    });
  token
    .command("list")
    .description("tokens with their scopes, quotas and state (never their secrets)")
    .option("--json", "machine-readable output")
    .action(async (options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const tokens = (await store.registry.tokens()).map(({ hash: _, ...t }) => t);
        if (options.json === true) printJson(tokens);
        else if (tokens.length === 0) console.log("No tokens.");
        else console.log(formatTable(tokens.map((t) => ({ name: t.name, scopes: t.scopes.join(" "), quota: t.quotaPerSecond ?? "-", created: t.createdAt, revoked: t.revokedAt ?? "-" }))));
      });
    });
  token
    .command("revoke <name>")
    .description("revoke a token (servers refuse it within server.registryRefreshSeconds)")
    .action(async (name: string, _options: unknown, command: Command) => {
      await withStore(command, async (store) => {
        await store.revokeToken(name);
        console.log(`Token "${name}" revoked.`);
      });
    });
}
