// `npm run import:openapi -- <file> --api <name> --env <environment> [--dry-run] [--base-url <url>] [--max-bytes <n>]`
// Imports an OpenAPI 3.x / Swagger 2.0 description into DATABASE_URL as the
// system actor "cli", printing the diff. Exit codes: 0 done (or dry run),
// 1 the document or the arguments were refused (the message says why),
// 2 the import could not run (database unreachable, unexpected error).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { applyImport, planImport } from "@/lib/discovery";
import { formatPlan } from "@/lib/discovery/openapi/format";
import { commandLine, importAsCli, runCommand } from "./lib/import-cli";

const USAGE = "usage: npm run import:openapi -- <file> --api <name> --env <environment> [--dry-run] [--base-url <url>] [--max-bytes <n>] [--confirm-public-writes]";

async function main(): Promise<number> {
  const args = commandLine(USAGE, { api: { type: "string" }, env: { type: "string" }, "dry-run": { type: "boolean" }, "base-url": { type: "string" }, "max-bytes": { type: "string" }, "confirm-public-writes": { type: "boolean" } });
  if (!args) return 1;
  const file = args.positionals[0];
  if (!file || !args.values.api || !args.values.env) {
    console.error(USAGE);
    return 1;
  }
  let document: Buffer;
  try {
    document = await readFile(file);
  } catch (e) {
    console.error(`cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const maxBytes = args.values["max-bytes"] ? Number(args.values["max-bytes"]) : undefined;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
    console.error("--max-bytes must be a positive integer");
    return 1;
  }
  const input = { apiName: args.values.api, environment: args.values.env, document, filename: path.basename(file), baseUrl: args.values["base-url"] };
  const confirmPublicWrites = args.values["confirm-public-writes"] === true;
  return importAsCli(async (actor, client) => {
    if (args.values["dry-run"]) {
      console.log(formatPlan(await planImport(actor, input, { client, maxBytes })));
      console.log("dry run: nothing written");
    } else {
      const result = await applyImport(actor, { ...input, confirmPublicWrites }, { client, maxBytes });
      console.log(formatPlan(result));
      console.log(`applied: ${result.findingsOpened} findings opened, ${result.outboxRows} proxy updates queued`);
    }
  });
}

runCommand("import:openapi", main);
