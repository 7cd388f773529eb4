// `npm run audit:verify`: re-computes the audit log's hash chain against
// DATABASE_URL. Exit 0 when intact, 1 when broken (naming the first bad
// event), 2 when it could not run.
import { createDb } from "@/lib/db";
import { env } from "@/lib/config/env";
import { verifyAuditChain } from "@/lib/audit/chain";

async function main(): Promise<number> {
  const client = createDb(env().DATABASE_URL, 2);
  try {
    const result = await verifyAuditChain(client);
    if (result.ok) {
      console.log(`audit chain OK: ${result.checked} events verified, head ${result.headHash}`);
      return 0;
    }
    const b = result.firstBroken!;
    console.error(
      `audit chain BROKEN at event seq=${b.seq} id=${b.id} action=${b.action} at=${b.at}: ${b.reason}\n` +
        `(${result.checked} events before it verified)`,
    );
    return 1;
  } finally {
    await client.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`audit:verify failed to run: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
