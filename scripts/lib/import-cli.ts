import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { env } from "@/lib/config/env";
import { createDb, type PrismaClient } from "@/lib/db";
import { AppError } from "@/lib/errors";

// What the import commands (scripts/import-*.ts) share: their exit codes and how
// they talk to the database. 0 done (or dry run), 1 refused (the message says why),
// 2 the import could not run (database unreachable, unexpected error).

/** Runs `work` as the system actor "cli" on DATABASE_URL: 0 when it is done, 1 when the import refused the input (AppError). */
export async function importAsCli(work: (actor: Actor, client: PrismaClient) => Promise<void>): Promise<number> {
  const client = createDb(env().DATABASE_URL, 2);
  try {
    await work(systemActor("cli"), client);
    return 0;
  } catch (e) {
    if (e instanceof AppError) {
      console.error(`import refused (${e.status} ${e.code}): ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await client.$disconnect();
  }
}

/** Exits with `main`'s code; anything it throws is exit code 2, naming the command. */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${name} failed to run: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
}

/** The command line (a file and these options), or null after printing what is wrong and the usage: exit code 1. */
export function commandLine<O extends ParseArgsOptionsConfig>(usage: string, options: O) {
  try {
    return parseArgs({ allowPositionals: true as const, options });
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    return null;
  }
}
