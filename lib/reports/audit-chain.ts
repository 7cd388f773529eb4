import { z } from "zod";
import { verifyAuditLogFromSources } from "@/lib/audit/sources";
import type { PrismaClient } from "@/lib/db";
import type { ReportDefinition, ReportRow } from "./types";

/**
 * The audit log's verification as evidence: one row with whether the chain and
 * every signed checkpoint hold, how many events were checked, the head, and
 * each problem in the words `npm run audit:verify` uses (truncation, rewrite,
 * bad or foreign signature, an effect without its event).
 */
const filters = z.object({}).strict();
type Filters = z.infer<typeof filters>;

export const auditChainReport: ReportDefinition<Filters> = {
  name: "audit-chain",
  title: "Audit chain verification",
  description: "Recomputes the audit log's hash chain, checks it against every signed checkpoint, and reports whether it is intact.",
  filters,
  fields: [],
  columns: [
    { key: "verifiedAt", header: "Verified at" },
    { key: "intact", header: "Intact" },
    { key: "eventsChecked", header: "Events checked" },
    { key: "headSeq", header: "Head seq" },
    { key: "headHash", header: "Head hash" },
    { key: "checkpointsMatched", header: "Checkpoints matched" },
    { key: "firstBrokenSeq", header: "First broken seq" },
    { key: "firstBrokenId", header: "First broken id" },
    { key: "firstBrokenAction", header: "First broken action" },
    { key: "reason", header: "Reason" },
    { key: "problems", header: "Problems" },
  ],
  async *batches({ client }) {
    yield [await verificationRow(client)];
  },
  async summary(client) {
    const r = await verificationRow(client);
    return {
      rowCount: 1,
      totals: [
        ["Chain intact", r.intact ? "yes" : "NO"],
        ["Events checked", r.eventsChecked as number],
        ["Head hash", r.headHash as string],
        ["Checkpoints matched", r.checkpointsMatched as number],
        ...(r.problems ? String(r.problems).split("\n").map((p, i) => [`Problem ${i + 1}`, p] as [string, string]) : []),
      ],
      breakdowns: [],
    };
  },
};

async function verificationRow(client: PrismaClient): Promise<ReportRow> {
  const v = await verifyAuditLogFromSources(client);
  const b = v.chain.firstBroken;
  return {
    verifiedAt: new Date().toISOString(),
    intact: v.ok,
    eventsChecked: v.chain.checked,
    headSeq: v.chain.headSeq,
    headHash: v.chain.headHash,
    checkpointsMatched: v.checkpoints.filter((c) => c.status === "ok").length,
    firstBrokenSeq: b?.seq ?? null,
    firstBrokenId: b?.id ?? null,
    firstBrokenAction: b?.action ?? null,
    reason: b?.reason ?? null,
    problems: v.problems.length ? v.problems.join("\n") : null,
  };
}
