import { KINDS } from "./desired";
import type { AccessPlan } from "./plan";

/** A plan as text for the CLI: counts per kind, first rows, risk summary, notes. */
export function formatAccessPlan(plan: AccessPlan): string {
  const out: string[] = [];
  out.push(`source ${plan.source.name} (${plan.source.format}) -> environment ${plan.source.environment}; file sha256 ${plan.source.fileSha256}`);
  out.push(`plan ${plan.planHash}${plan.empty ? " — no changes" : ""}`);
  for (const k of KINDS) {
    const c = plan.counts[k];
    out.push(`  ${k.padEnd(10)} +${c.create} ~${c.update} gone ${c.gone} =${c.unchanged}`);
    for (const x of plan.samples[k].create) out.push(`      + ${x.label}`);
    for (const x of plan.samples[k].update) out.push(`      ~ ${x.label} (${x.fields.join(", ")})`);
    for (const x of plan.samples[k].gone) out.push(`      - ${x.label} (gone from source: kept, findings raised)`);
  }
  const r = plan.risk;
  out.push("risk:");
  out.push(`  routes accepting requests with no key: ${r.publicEndpoints.length}`);
  for (const e of r.publicEndpoints.slice(0, 20)) out.push(`      ${e.method} ${e.path} (${e.api})`);
  out.push(`  keys reaching admin-level scopes: ${r.adminKeyCount}`);
  for (const k of r.adminKeys.slice(0, 20)) out.push(`      ${k.credential} of ${k.principal}: ${k.scopes.join(", ")}`);
  if (r.adminKeyCount > 20) out.push(`      and ${r.adminKeyCount - 20} more`);
  out.push(`  consumers with no owner: ${r.consumersWithoutOwner}`);
  out.push(`  keys with no expiry: ${r.keysWithoutExpiry}`);
  out.push(`  blocked endpoints: ${r.blockedEndpoints}`);
  for (const [title, notes] of [["conflicts", plan.conflicts], ["not imported", plan.notImported], ["warnings", plan.warnings]] as const) {
    if (notes.length === 0) continue;
    out.push(`${title}: ${notes.length}`);
    for (const n of notes.slice(0, 50)) out.push(`  ${n.where}: ${n.message}`);
  }
  return out.join("\n");
}
