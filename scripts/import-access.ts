// `npm run import:access -- <file> --env <environment> [--format kong|ndjson|csv] [--source <name>] [--var NAME]... [--dry-run] [--plan-hash <h>] [--max-bytes <n>]`
// Imports access (Kong declarative configuration, Tollgate NDJSON, or Tollgate
// CSV: a directory of *.csv files or several files) into DATABASE_URL as the
// system actor "cli", printing the plan. Placeholders ($VAR, ${VAR},
// ${{ env "DECK_X" }}) are resolved only from the variables named with --var.
// Exit codes: 0 done (or dry run), 1 refused (the message says why; 409 when
// --plan-hash is stale), 2 the import could not run.
// package.json runs it with --heap-growing-percent=50: V8 then collects before its heap grows past 1.5x what is
// live, instead of its default (up to several times): a million-grant import peaked at ~500 MB without the flag and
// ~400 MB with it, for about 0.5 s more CPU (docs/BENCHMARKS.md, "Access import").
import { open, readdir, readFile, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import path from "node:path";
import { applyAccessImport, planAccessImport } from "@/lib/access-import";
import { formatAccessPlan } from "@/lib/access-import/format";
import { commandLine, importAsCli, runCommand } from "./lib/import-cli";

const USAGE =
  "usage: npm run import:access -- <file> --env <environment> [--format kong|ndjson|csv] [--source <name>] [--var NAME]... [--dry-run] [--plan-hash <h>] [--max-bytes <n>]\n" +
  "       (csv: <file> is a directory of *.csv files, or give several .csv files)";

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
  // NDJSON and CSV are streamed (read line by line, never whole); a Kong file is one YAML document.
  const format = args.values.format as "kong" | "ndjson" | "csv";
  let contents: { file: Buffer | Readable; filename: string } | { files: { file: Readable; filename: string }[] };
  let reading = file;
  try {
    if (format === "csv") {
      const paths = await csvPaths(args.positionals);
      const files = [];
      for (const p of paths) {
        reading = p;
        files.push({ file: await streamOf(p), filename: path.basename(p) });
      }
      contents = { files };
    } else if (format === "ndjson") contents = { file: await streamOf(file), filename: path.basename(file) };
    else contents = { file: await readFile(file), filename: path.basename(file) };
  } catch (e) {
    console.error(`cannot read ${reading}: ${(e as Error).message}`);
    return 1;
  }
  const maxBytes = args.values["max-bytes"] ? Number(args.values["max-bytes"]) : undefined;
  const input = {
    format,
    environment: args.values.env,
    source: args.values.source,
    ...contents,
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
/** Opens now, so a file that cannot be read fails here with a clear message. */
async function streamOf(file: string): Promise<Readable> {
  const handle = await open(file, "r");
  return handle.createReadStream();
}

/** A directory: its *.csv files, by name; otherwise the files given. */
async function csvPaths(positionals: string[]): Promise<string[]> {
  if (positionals.length === 1 && (await stat(positionals[0])).isDirectory()) {
    const names = (await readdir(positionals[0])).filter((n) => n.toLowerCase().endsWith(".csv")).sort();
    if (names.length === 0) throw new Error("no .csv files in this directory");
    return names.map((n) => path.join(positionals[0], n));
  }
  return positionals;
}

