import type { ImportPlan } from "./import";

/** A plan as text for the CLI: one line per change, then the totals. */
export function formatPlan(plan: ImportPlan): string {
  const d = plan.diff;
  const lines: string[] = [];
  lines.push(`${plan.api.create ? "create API" : "API"} ${plan.api.name} (${plan.api.environment}) upstream ${plan.api.baseUrl}`);
  lines.push(`document: ${plan.document.title || "(untitled)"} — ${plan.document.label}, ${plan.document.operations} operations, sha256 ${plan.document.sha256.slice(0, 12)}`);
  for (const e of d.endpoints.added) {
    const needs = e.requirements.map((set) => set.map((s) => `${s}[${e.scopeLevels[s]}]`).join(" AND ")).join(", or ");
    lines.push(`+ endpoint ${e.method} ${e.pathTemplate}${e.public ? " (public)" : ""}${needs ? `  scopes: ${needs}` : ""}`);
  }
  for (const e of d.endpoints.changed) lines.push(`~ endpoint ${e.method} ${e.pathTemplate}  ${e.changes.map((c) => `${c.field}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`).join("; ")}`);
  for (const e of d.endpoints.removed) lines.push(`- endpoint ${e.method} ${e.pathTemplate}  (${e.action}${e.activeGrants ? `, ${e.activeGrants} active grants` : ""})`);
  for (const s of d.scopes.added) lines.push(`+ scope ${s.name} [${s.level}]${s.evidence.length ? `  (${s.evidence.join("; ")})` : ""}`);
  for (const s of d.scopes.changed) lines.push(`~ scope ${s.name} [${s.level}]  ${s.changes.map((c) => `${c.field}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`).join("; ")}`);
  for (const s of d.scopes.removed) lines.push(`- scope ${s.name} [${s.level}]  (${s.action}${s.activeGrants ? `, ${s.activeGrants} active grants get a finding` : ""})`);
  lines.push(
    `endpoints: +${d.endpoints.added.length} ~${d.endpoints.changed.length} -${d.endpoints.removed.length} =${d.endpoints.unchanged}; ` +
      `scopes: +${d.scopes.added.length} ~${d.scopes.changed.length} -${d.scopes.removed.length} =${d.scopes.unchanged}`,
  );
  for (const m of plan.security.messages) lines.push(`! ${m}`);
  lines.push(`plan ${plan.planHash}`);
  return lines.join("\n");
}
