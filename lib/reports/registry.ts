import { badRequest } from "@/lib/errors";
import { accessGrantedReport } from "./access-granted";
import { auditChainReport } from "./audit-chain";
import { campaignReport } from "./campaign";
import { exceptionsReport } from "./exceptions";
import { inventoryReport } from "./inventory";
import { revocationsReport } from "./revocations";
import type { ReportDefinition } from "./types";

/** Every report an auditor can export, by its URL name (/api/v1/reports/<name>). */
export const REPORTS: Record<string, ReportDefinition<never>> = Object.fromEntries(
  [campaignReport, inventoryReport, revocationsReport, accessGrantedReport, exceptionsReport, auditChainReport].map((r) => [r.name, r as ReportDefinition<never>]),
);

export function reportByName(name: string): ReportDefinition<never> {
  const def = Object.hasOwn(REPORTS, name) ? REPORTS[name] : undefined;
  if (!def) throw badRequest(`report: unknown report "${name}"; one of ${Object.keys(REPORTS).join(", ")}`, "report");
  return def;
}
