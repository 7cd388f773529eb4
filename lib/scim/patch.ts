import { filter as matcher, parse, type Filter } from "scim2-parse-filter";
import { z } from "zod";
import { PATCH_SCHEMA } from "./constants";
import { invalidPath, invalidSyntax, invalidValue, noTarget } from "./errors";

/**
 * RFC 7644 §3.5.2 PATCH applied to a resource's JSON representation; the
 * caller then saves the result exactly as a PUT would, so PATCH and PUT share
 * one validation and one write path. Accepts what real clients send: Okta's
 * `{"op":"replace","value":{"active":false}}`, Entra's capitalised
 * `"Replace"` with a path and string booleans, URN-qualified extension paths,
 * and value filters such as `emails[type eq "work"].value` or
 * `members[value eq "…"]`.
 */
const patchBody = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(PATCH_SCHEMA), `must include ${PATCH_SCHEMA}`),
  Operations: z
    .array(z.object({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() }).loose())
    .min(1, "needs at least one operation")
    .max(1000),
});

export type PatchOp = { op: "add" | "replace" | "remove"; path?: string; value?: unknown };
type Json = Record<string, unknown>;

export function parsePatchBody(body: unknown): PatchOp[] {
  const parsed = patchBody.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw invalidSyntax(`${i.path.join(".") || "body"}: ${i.message}`);
  }
  return parsed.data.Operations.map((o, n) => {
    const op = o.op.toLowerCase();
    if (op !== "add" && op !== "replace" && op !== "remove") throw invalidSyntax(`Operations.${n}.op: "${o.op}" is not add, replace or remove`);
    return { op, path: o.path?.trim() || undefined, value: o.value };
  });
}

interface ParsedPath {
  /** The object the attribute lives in: the resource, or an extension's object. */
  container: string | null;
  attr: string;
  filter: Filter | null;
  sub: string | null;
}

export function applyPatch(resource: Json, ops: PatchOp[], extensionUrns: string[], coreUrn: string): Json {
  const out = structuredClone(resource);
  for (const o of ops) {
    if (!o.path) {
      if (o.op === "remove") throw noTarget("remove needs a path");
      if (!o.value || typeof o.value !== "object" || Array.isArray(o.value)) throw invalidValue(`${o.op} without a path needs an object value`);
      for (const [key, value] of Object.entries(o.value as Json)) {
        if (key === "schemas") continue;
        const isExtensionObject = extensionUrns.some((u) => u.toLowerCase() === key.toLowerCase());
        if (isExtensionObject && value && typeof value === "object" && !Array.isArray(value)) {
          for (const [k, v] of Object.entries(value as Json)) applyOne(out, { op: o.op, path: `${key}:${k}`, value: v }, extensionUrns, coreUrn);
        } else applyOne(out, { op: o.op, path: key, value }, extensionUrns, coreUrn);
      }
      continue;
    }
    applyOne(out, o, extensionUrns, coreUrn);
  }
  return out;
}

function parsePath(path: string, extensionUrns: string[], coreUrn: string): ParsedPath {
  let container: string | null = null;
  let rest = path;
  const lower = path.toLowerCase();
  if (lower.startsWith(coreUrn.toLowerCase() + ":")) rest = path.slice(coreUrn.length + 1);
  else {
    const ext = extensionUrns.find((u) => lower.startsWith(u.toLowerCase() + ":"));
    if (ext) {
      container = ext;
      rest = path.slice(ext.length + 1);
    }
  }
  const m = /^([A-Za-z][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z][\w$-]*))?$/.exec(rest);
  if (!m) throw invalidPath(`cannot parse path "${path}"`);
  let filter: Filter | null = null;
  if (m[2]) {
    try {
      filter = parse(m[2]);
    } catch (e) {
      throw invalidPath(`cannot parse the filter in path "${path}": ${(e as Error).message}`);
    }
  }
  return { container, attr: m[1], filter, sub: m[3] ?? null };
}

/** Attribute names are case-insensitive in SCIM: find the key as stored. */
function keyOf(obj: Json, name: string): string {
  return Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
}

function applyOne(resource: Json, o: PatchOp, extensionUrns: string[], coreUrn: string): void {
  const p = parsePath(o.path!, extensionUrns, coreUrn);
  let target = resource;
  if (p.container) {
    const k = keyOf(resource, p.container);
    if (!resource[k] || typeof resource[k] !== "object") resource[k] = {};
    target = resource[k] as Json;
  }
  const key = keyOf(target, p.attr);

  if (p.filter) {
    const list = Array.isArray(target[key]) ? (target[key] as Json[]) : [];
    const test = matcher(p.filter);
    const hits = list.filter((el) => el && typeof el === "object" && test(el));
    if (o.op === "remove") {
      if (p.sub) hits.forEach((el) => delete el[keyOf(el, p.sub!)]);
      else target[key] = list.filter((el) => !hits.includes(el));
      return;
    }
    if (hits.length === 0) {
      // Entra replaces emails[type eq "work"].value on a user without one: create it.
      if (p.filter.op === "eq") {
        const el: Json = { [p.filter.attrPath]: p.filter.compValue };
        if (p.sub) el[p.sub] = o.value;
        else if (o.value && typeof o.value === "object") Object.assign(el, o.value);
        target[key] = [...list, el];
        return;
      }
      throw noTarget(`no value matches "${o.path}"`);
    }
    for (const el of hits) {
      if (p.sub) el[keyOf(el, p.sub)] = o.value;
      else if (o.value && typeof o.value === "object" && !Array.isArray(o.value)) Object.assign(el, o.value);
      else throw invalidValue(`${o.path} needs an object value`);
    }
    return;
  }

  if (p.sub) {
    if (!target[key] || typeof target[key] !== "object" || Array.isArray(target[key])) {
      if (o.op === "remove") return;
      target[key] = {};
    }
    const obj = target[key] as Json;
    if (o.op === "remove") delete obj[keyOf(obj, p.sub)];
    else obj[keyOf(obj, p.sub)] = o.value;
    return;
  }

  if (o.op === "remove") {
    // Entra removes group members as {"op":"Remove","path":"members","value":[{"value":"<id>"}]}.
    if (Array.isArray(o.value) && Array.isArray(target[key])) {
      const gone = new Set((o.value as Json[]).map((v) => String(v?.value)));
      target[key] = (target[key] as Json[]).filter((el) => !gone.has(String(el?.value)));
    } else delete target[key];
    return;
  }
  if (o.op === "add" && Array.isArray(target[key])) {
    const incoming = Array.isArray(o.value) ? (o.value as Json[]) : [o.value as Json];
    const existing = target[key] as Json[];
    const seen = new Set(existing.map((el) => (el && typeof el === "object" && "value" in el ? String(el.value) : JSON.stringify(el))));
    for (const v of incoming) {
      const id = v && typeof v === "object" && "value" in v ? String(v.value) : JSON.stringify(v);
      if (!seen.has(id)) existing.push(v);
      seen.add(id);
    }
    return;
  }
  if (o.op === "add" && o.value && typeof o.value === "object" && !Array.isArray(o.value) && target[key] && typeof target[key] === "object" && !Array.isArray(target[key])) {
    Object.assign(target[key] as Json, o.value);
    return;
  }
  target[key] = o.value;
}
