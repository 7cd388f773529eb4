// `npm run import:access -- <file> --env <environment> [--format kong] [--source <name>] [--var NAME]... [--dry-run] [--plan-hash <h>] [--max-bytes <n>]`
// Imports access (Kong declarative configuration) into DATABASE_URL as the
// system actor "cli", printing the plan. Placeholders ($VAR, ${VAR},
// ${{ env "DECK_X" }}) are resolved only from the variables named with --var.
// Exit codes: 0 done (or dry run), 1 refused (the message says why; 409 when
// --plan-hash is stale), 2 the import could not run.
import { open, readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import path from "node:path";
import { applyAccessImport, planAccessImport } from "@/lib/access-import";
import { formatAccessPlan } from "@/lib/access-import/format";
import { commandLine, importAsCli, runCommand } from "./lib/import-cli";

const USAGE = "usage: npm run import:access -- <file> --env <environment> [--format kong] [--source <name>] [--var NAME]... [--dry-run] [--plan-hash <h>] [--max-bytes <n>]";

async function main(): Promise<number> {
  const args = commandLine(USAGE, {
    env: { type: "string" },
    format: { type: "string", default: "kong" },
    source: { type: "string" },
    var: { type: "string", multiple: true },
    "dry-run": { type: "boolean" },
    "plan-hash": { type: "string" },
    "max-bytes": { type: "string" },
  });
  if (!args) return 1;
  const file = args.positionals[0];
  if (!file || !args.values.env) {
    console.error(USAGE);
    return 1;
  }
  const vars: Record<string, string> = {};
  for (const name of args.values.var ?? []) {
    const value = process.env[name];
    if (value === undefined) {
      console.error(`--var ${name}: the environment variable ${name} is not set`);
      return 1;
    }
    vars[name] = value;
  }
  // NDJSON is streamed (read line by line, never whole); a Kong file is one YAML document.
  const format = args.values.format as "kong" | "ndjson";
  let contents: Buffer | Readable;
  try {
    if (format === "ndjson") {
      const handle = await open(file, "r"); // fails here, with a clear message, if the file cannot be read
      contents = handle.createReadStream();
    } else contents = await readFile(file);
  } catch (e) {
    console.error(`cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const maxBytes = args.values["max-bytes"] ? Number(args.values["max-bytes"]) : undefined;
  const input = {
    format,
    environment: args.values.env,
    source: args.values.source,
    file: contents,
    filename: path.basename(file),
    vars,
    expectedPlanHash: args.values["plan-hash"],
  };
  return importAsCli(async (actor, client) => {
    if (args.values["dry-run"]) {
      console.log(formatAccessPlan(await planAccessImport(actor, input, { client, maxBytes })));
      console.log("dry run: nothing written (apply with --plan-hash <plan> to refuse a stale plan)");
    } else {
      const result = await applyAccessImport(actor, input, { client, maxBytes });
      console.log(formatAccessPlan(result));
      console.log(result.applied ? `applied: ${result.findingsOpened} findings opened, ${result.outboxRows} proxy updates queued` : "nothing to apply: the inventory already matches this source");
    }
  });
}

runCommand("import:access", main);
