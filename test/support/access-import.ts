import { expect } from "vitest";
import type { PrismaClient } from "@/lib/db";
import type { AccessImportResult } from "@/lib/access-import";

/**
 * The documented example (NDJSON or CSV) applied again without its billing:admin
 * grant: that grant is marked gone, kept active, and raised as one finding.
 */
export async function expectAdminGrantGone(client: PrismaClient, result: AccessImportResult): Promise<void> {
  expect(result.written.grant.gone).toBe(1);
  expect(result.findingsOpened).toBe(1);
  const g = await client.grant.findFirstOrThrow({ where: { scope: { name: "billing:admin" } }, include: { findings: true } });
  expect(g.status).toBe("active");
  expect(g.findings.map((f) => f.rule)).toEqual(["gone_from_source"]);
}
