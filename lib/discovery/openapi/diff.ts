import { createHash } from "node:crypto";
import { canonicalJSON } from "@/lib/audit";
import { describeRequirements } from "@/proxy/requirements";
import { normalizeTemplate, type Description, type Level, type OperationSpec, type ScopeSpec } from "./extract";

/** What the inventory holds for one API right now (loaded by state.ts). */
export interface InventoryState {
  endpoints: {
    id: string;
    method: string;
    pathTemplate: string;
    summary: string | null;
    public: boolean;
    deprecatedAt: string | null;
    scopeNames: string[];
    /** Alternatives of scope-name sets, canonical (proxy/requirements.ts). */
    requirements: string[][];
  }[];
  scopes: {
    id: string;
    name: string;
    level: Level;
    description: string | null;
    deprecatedAt: string | null;
    activeGrants: number;
    /** Grants of any status: a scope with history is deprecated, never deleted. */
    anyGrants: number;
  }[];
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface EndpointDiff {
  added: (OperationSpec & { scopeLevels: Record<string, Level> })[];
  changed: { id: string; method: string; pathTemplate: string; changes: FieldChange[]; spec: OperationSpec }[];
  removed: { id: string; method: string; pathTemplate: string; action: "delete" | "deprecate"; activeGrants: number }[];
  unchanged: number;
}

export interface ScopeDiff {
  added: ScopeSpec[];
  changed: { id: string; name: string; level: Level; changes: FieldChange[]; spec: ScopeSpec }[];
  removed: { id: string; name: string; level: Level; action: "delete" | "deprecate"; activeGrants: number }[];
  unchanged: number;
}

export interface Diff {
  endpoints: EndpointDiff;
  scopes: ScopeDiff;
}

export function computeDiff(state: InventoryState, desc: Description): Diff {
  const scopeByName = new Map(state.scopes.map((s) => [s.name, s]));
  const wanted = new Map(desc.scopes.map((s) => [s.name, s]));
  const scopes: ScopeDiff = { added: [], changed: [], removed: [], unchanged: 0 };
  for (const spec of desc.scopes) {
    const cur = scopeByName.get(spec.name);
    if (!cur) {
      scopes.added.push(spec);
      continue;
    }
    // The level is the admin's to edit after the first import, so a re-import keeps it.
    const changes: FieldChange[] = [];
    if (spec.description !== null && spec.description !== cur.description) changes.push({ field: "description", from: cur.description, to: spec.description });
    if (cur.deprecatedAt) changes.push({ field: "deprecated", from: true, to: false });
    if (changes.length) scopes.changed.push({ id: cur.id, name: cur.name, level: cur.level, changes, spec });
    else scopes.unchanged++;
  }
  for (const cur of state.scopes) {
    if (wanted.has(cur.name)) continue;
    if (cur.anyGrants === 0) scopes.removed.push({ id: cur.id, name: cur.name, level: cur.level, action: "delete", activeGrants: 0 });
    else if (!cur.deprecatedAt) scopes.removed.push({ id: cur.id, name: cur.name, level: cur.level, action: "deprecate", activeGrants: cur.activeGrants });
    else scopes.unchanged++;
  }

  const levelOf = (name: string): Level => scopeByName.get(name)?.level ?? wanted.get(name)!.level;
  const endpointByKey = new Map(state.endpoints.map((e) => [`${e.method} ${normalizeTemplate(e.pathTemplate)}`, e]));
  const endpoints: EndpointDiff = { added: [], changed: [], removed: [], unchanged: 0 };
  const matched = new Set<string>();
  for (const op of desc.operations) {
    const cur = endpointByKey.get(`${op.method} ${normalizeTemplate(op.pathTemplate)}`);
    if (!cur) {
      endpoints.added.push({ ...op, scopeLevels: Object.fromEntries(op.scopes.map((n) => [n, levelOf(n)])) });
      continue;
    }
    matched.add(cur.id);
    const changes: FieldChange[] = [];
    if (cur.pathTemplate !== op.pathTemplate) changes.push({ field: "pathTemplate", from: cur.pathTemplate, to: op.pathTemplate });
    if ((cur.summary ?? null) !== op.summary) changes.push({ field: "summary", from: cur.summary, to: op.summary });
    if (cur.public !== op.public) changes.push({ field: "public", from: cur.public, to: op.public });
    // Requirements are compared as sets of sets: {a, b} is a different requirement from "a, or b".
    if (JSON.stringify(cur.requirements) !== JSON.stringify(op.requirements)) {
      changes.push({ field: "scopes", from: describeRequirements(cur.requirements) || "(none)", to: describeRequirements(op.requirements) || "(none)" });
    }
    if (cur.deprecatedAt) changes.push({ field: "deprecated", from: true, to: false });
    if (changes.length) endpoints.changed.push({ id: cur.id, method: cur.method, pathTemplate: cur.pathTemplate, changes, spec: op });
    else endpoints.unchanged++;
  }
  const activeByScope = new Map(state.scopes.map((s) => [s.name, s.activeGrants]));
  for (const cur of state.endpoints) {
    if (matched.has(cur.id)) continue;
    const activeGrants = cur.scopeNames.reduce((n, s) => n + (activeByScope.get(s) ?? 0), 0);
    if (activeGrants === 0) endpoints.removed.push({ id: cur.id, method: cur.method, pathTemplate: cur.pathTemplate, action: "delete", activeGrants });
    else if (!cur.deprecatedAt) endpoints.removed.push({ id: cur.id, method: cur.method, pathTemplate: cur.pathTemplate, action: "deprecate", activeGrants });
    else endpoints.unchanged++;
  }
  return { endpoints, scopes };
}

export function isEmptyDiff(d: Diff): boolean {
  return [d.endpoints.added, d.endpoints.changed, d.endpoints.removed, d.scopes.added, d.scopes.changed, d.scopes.removed].every((l) => l.length === 0);
}

/** Binds a plan to the inventory it was computed against: any change to either gives another hash. */
export function planHash(apiKey: unknown, state: InventoryState, diff: Diff): string {
  return createHash("sha256").update(canonicalJSON({ apiKey, state, diff })).digest("hex");
}
