// `npm run audit:verify`: re-computes the audit log's hash chain against
// DATABASE_URL and checks it against every signed checkpoint it can find: the
// database's, the checkpoint file (TOLLGATE_AUDIT_CHECKPOINT_DIR), every
// registered proxy's, and any an auditor brings:
//   --checkpoints FILE           a checkpoint file or a saved export (CSV/JSON/PDF); repeatable
//   --expect-head <seq>:<hash>   a head the auditor wrote down earlier; repeatable
//   --public-key FILE            the trusted public key (default: TOLLGATE_AUDIT_PUBLIC_KEY(_FILE), else the signing key's)
//   --no-proxies                 do not ask the proxies
//   --workers N                  check the chain in N worker threads (default 0: in the main thread, which measured
//                                faster on a saturated 2-core machine; see docs/BENCHMARKS.md)
// Exit 0 when everything holds, 1 when something is wrong (each problem named),
// 2 when it could not run.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createDb } from "@/lib/db";
import { env } from "@/lib/config/env";
import { publicKeyFromPem, trustedKeysFromEnv, keyIdOf } from "@/lib/audit/signing";
import { verifyAuditLogFromSources } from "@/lib/audit/sources";
import type { ExpectedHead } from "@/lib/audit/verify";

class UsageError extends Error {}

function parseExpectHead(v: string): ExpectedHead {
  const m = /^(\d{1,19}):([0-9a-f]{64})$/.exec(v.trim());
  if (!m) throw new UsageError(`--expect-head: must be <seq>:<64 hex hash>, got "${v}"`);
  return { source: `--expect-head ${m[1]}`, seq: BigInt(m[1]), headHash: m[2] };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      checkpoints: { type: "string", multiple: true, default: [] },
      "expect-head": { type: "string", multiple: true, default: [] },
      "public-key": { type: "string" },
      "no-proxies": { type: "boolean", default: false },
      workers: { type: "string", default: "0" },
    },
    strict: true,
  });
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new UsageError(`--workers: must be a whole number 0-64, got "${values.workers}"`);
  const expectHeads = (values["expect-head"] ?? []).map(parseExpectHead);
  const trustedKeys = values["public-key"] ? [publicKeyFromPem(readFileSync(values["public-key"], "utf8"))] : trustedKeysFromEnv();

  for (const file of values.checkpoints ?? []) if (!existsSync(file)) throw new UsageError(`--checkpoints: no such file ${file}`);

  const client = createDb(env().DATABASE_URL, 2);
  try {
    const result = await verifyAuditLogFromSources(client, {
      files: values.checkpoints,
      proxies: !values["no-proxies"],
      expectHeads,
      trustedKeys,
      databaseUrl: env().DATABASE_URL,
      workers,
    });
    const allProblems = result.problems;
    const okCheckpoints = result.checkpoints.filter((c) => c.status === "ok").length;
    const keys = trustedKeys.map(keyIdOf).join(", ") || "none";
    for (const n of result.notes) console.error(`note: ${n}`);
    if (allProblems.length === 0) {
      console.log(`audit chain OK: ${result.chain.checked} events verified, head ${result.chain.headHash}${result.chain.headSeq ? ` (seq ${result.chain.headSeq})` : ""}`);
      console.log(`checkpoints OK: ${okCheckpoints} checked against the log (trusted key ${keys})`);
      return 0;
    }
    console.error(`audit log verification FAILED (${allProblems.length} problem${allProblems.length === 1 ? "" : "s"}; trusted key ${keys}):`);
    for (const p of allProblems) console.error(`- ${p}`);
    console.error(`(${result.chain.checked} events verified before the first break; ${okCheckpoints} checkpoints matched)`);
    return 1;
  } finally {
    await client.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`audit:verify ${usage ? "usage error" : "failed to run"}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
