import { parse, type Filter } from "scim2-parse-filter";
import type { Prisma } from "@/lib/generated/prisma/client";
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from "./constants";
import { invalidFilter } from "./errors";
import { unstorableText } from "./input";
import { escapeLike } from "./like";

/**
 * SCIM filters become Prisma where clauses (so Postgres does the filtering and
 * paging, never an in-memory scan). Supported: eq ne co sw ew pr gt ge lt le,
 * and, or, not, on the attributes listed below; anything else is a 400
 * invalidFilter naming it. String comparisons are case-insensitive except
 * externalId and id (caseExact in RFC 7643).
 */
type StrOp = "eq" | "ne" | "co" | "sw" | "ew";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NONE = { id: { in: [] as string[] } };

// Real clients send a handful of conditions; hundreds of nested not()/and/or
// would become a query Prisma cannot build (it overflowed with a 500).
const MAX_FILTER_DEPTH = 16;

export function parseFilter(text: string): Filter {
  if (text.length > 2000) throw invalidFilter("filter is longer than 2000 characters");
  const problem = unstorableText(text);
  if (problem) throw invalidFilter(`filter ${problem}`);
  let f: Filter;
  try {
    f = parse(text);
  } catch (e) {
    throw invalidFilter(`cannot parse filter: ${(e as Error).message}`);
  }
  if (depthOf(f) > MAX_FILTER_DEPTH) throw invalidFilter(`filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
  return f;
}

function depthOf(f: Filter): number {
  if (f.op === "and" || f.op === "or") return 1 + Math.max(...f.filters.map(depthOf));
  if (f.op === "not") return 1 + depthOf(f.filter);
  if (f.op === "[]") return 1 + depthOf(f.valFilter);
  return 1;
}

function stripUrn(attrPath: string, schema: string): string {
  if (attrPath.toLowerCase().startsWith(schema.toLowerCase() + ":")) return attrPath.slice(schema.length + 1);
  return attrPath;
}

function stringCond(op: string, value: unknown, caseExact: boolean, attr: string): Prisma.StringFilter | string | null {
  if (op === "pr") return null;
  if (typeof value !== "string") throw invalidFilter(`${attr} ${op} needs a string value`);
  const mode = caseExact ? {} : { mode: "insensitive" as const };
  // Exact equality is a plain `=`; everything else becomes (I)LIKE and needs escaping.
  const eq = caseExact ? value : escapeLike(value);
  const pattern = escapeLike(value);
  switch (op as StrOp) {
    case "eq":
      return { equals: eq, ...mode };
    case "ne":
      return { not: { equals: eq, ...mode } } as Prisma.StringFilter;
    case "co":
      return { contains: pattern, ...mode };
    case "sw":
      return { startsWith: pattern, ...mode };
    case "ew":
      return { endsWith: pattern, ...mode };
    default:
      throw invalidFilter(`operator ${op} is not supported on ${attr}`);
  }
}

function dateCond(op: string, value: unknown, attr: string): Prisma.DateTimeFilter {
  const d = typeof value === "string" ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime())) throw invalidFilter(`${attr} ${op} needs a date-time value`);
  const map: Record<string, keyof Prisma.DateTimeFilter> = { eq: "equals", gt: "gt", ge: "gte", lt: "lt", le: "lte" };
  if (!map[op]) throw invalidFilter(`operator ${op} is not supported on ${attr}`);
  return { [map[op]]: d } as Prisma.DateTimeFilter;
}

function boolValue(op: string, value: unknown, attr: string): boolean {
  if (op !== "eq" && op !== "ne") throw invalidFilter(`operator ${op} is not supported on ${attr}`);
  const v = typeof value === "string" ? value.toLowerCase() : value;
  if (v !== true && v !== false && v !== "true" && v !== "false") throw invalidFilter(`${attr} compares with true or false`);
  const b = v === true || v === "true";
  return op === "eq" ? b : !b;
}

function idCond(op: string, value: unknown): Prisma.PrincipalWhereInput | Prisma.TeamWhereInput {
  if (op !== "eq" && op !== "ne") throw invalidFilter(`operator ${op} is not supported on id`);
  const ok = typeof value === "string" && UUID.test(value);
  if (op === "eq") return ok ? { id: value as string } : NONE;
  return ok ? { id: { not: value as string } } : {};
}

export function userWhere(f: Filter): Prisma.PrincipalWhereInput {
  switch (f.op) {
    case "and":
      return { AND: f.filters.map(userWhere) };
    case "or":
      return { OR: f.filters.map(userWhere) };
    case "not":
      return { NOT: userWhere(f.filter) };
    case "[]": {
      const attr = stripUrn(f.attrPath, USER_SCHEMA).toLowerCase();
      if (attr !== "emails") throw invalidFilter(`complex filter on ${f.attrPath} is not supported`);
      return userWhere(rebase(f.valFilter, "emails"));
    }
  }
  const attr = stripUrn(stripUrn(f.attrPath, USER_SCHEMA), ENTERPRISE_SCHEMA).toLowerCase();
  const value = "compValue" in f ? f.compValue : undefined;
  switch (attr) {
    case "username": {
      // People imported before SCIM have no userName: their email stands in for it.
      if (f.op === "pr") return { OR: [{ userName: { not: null } }, { email: { not: null } }] };
      const c = stringCond(f.op, value, false, "userName")!;
      return f.op === "ne"
        ? { NOT: { OR: [{ userName: (c as { not: Prisma.StringFilter }).not }, { userName: null, email: (c as { not: Prisma.StringFilter }).not }] } }
        : { OR: [{ userName: c }, { userName: null, email: c }] };
    }
    case "externalid":
      return f.op === "pr" ? { externalId: { not: null } } : { externalId: stringCond(f.op, value, true, "externalId")! };
    case "displayname":
      return f.op === "pr" ? {} : { displayName: stringCond(f.op, value, false, "displayName")! };
    case "emails":
    case "emails.value":
      return f.op === "pr" ? { email: { not: null } } : { email: stringCond(f.op, value, false, "emails.value")! };
    case "active":
      if (f.op === "pr") return {};
      return boolValue(f.op, value, "active") ? { status: "active" } : { status: { not: "active" } };
    case "id":
      return idCond(f.op, value) as Prisma.PrincipalWhereInput;
    case "meta.lastmodified":
      return { updatedAt: dateCond(f.op, value, "meta.lastModified") };
    case "meta.created":
      return { createdAt: dateCond(f.op, value, "meta.created") };
    default:
      throw invalidFilter(`filtering on ${f.attrPath} is not supported (userName, externalId, displayName, emails, active, id, meta.created, meta.lastModified)`);
  }
}

export function groupWhere(f: Filter): Prisma.TeamWhereInput {
  switch (f.op) {
    case "and":
      return { AND: f.filters.map(groupWhere) };
    case "or":
      return { OR: f.filters.map(groupWhere) };
    case "not":
      return { NOT: groupWhere(f.filter) };
    case "[]": {
      const attr = stripUrn(f.attrPath, GROUP_SCHEMA).toLowerCase();
      if (attr !== "members") throw invalidFilter(`complex filter on ${f.attrPath} is not supported`);
      const inner = f.valFilter;
      if (inner.op !== "eq" || inner.attrPath.toLowerCase() !== "value") throw invalidFilter("members[...] supports only value eq \"<id>\"");
      const v = inner.compValue;
      return typeof v === "string" && UUID.test(v) ? { principals: { some: { id: v, scimDeletedAt: null } } } : NONE;
    }
  }
  const attr = stripUrn(f.attrPath, GROUP_SCHEMA).toLowerCase();
  const value = "compValue" in f ? f.compValue : undefined;
  switch (attr) {
    case "displayname":
      return f.op === "pr" ? {} : { name: stringCond(f.op, value, false, "displayName")! };
    case "externalid":
      return f.op === "pr" ? { externalId: { not: null } } : { externalId: stringCond(f.op, value, true, "externalId")! };
    case "id":
      return idCond(f.op, value) as Prisma.TeamWhereInput;
    case "members.value":
      if (f.op !== "eq") throw invalidFilter("members.value supports eq only");
      return typeof value === "string" && UUID.test(value) ? { principals: { some: { id: value, scimDeletedAt: null } } } : NONE;
    default:
      throw invalidFilter(`filtering on ${f.attrPath} is not supported (displayName, externalId, id, members)`);
  }
}

/** `emails[value eq "x"]` is read as `emails.value eq "x"`. */
function rebase(f: Filter, parent: string): Filter {
  if (f.op === "and" || f.op === "or") return { ...f, filters: f.filters.map((x) => rebase(x, parent)) };
  if (f.op === "not") return { ...f, filter: rebase(f.filter, parent) };
  if (f.op === "[]") throw invalidFilter("nested complex filters are not supported");
  if (!("attrPath" in f)) throw invalidFilter("unsupported filter");
  const sub = f.attrPath.toLowerCase();
  if (sub === "type" || sub === "primary") return { op: "pr", attrPath: "displayName" }; // one email column: type/primary always match
  return { ...f, attrPath: `${parent}.${f.attrPath}` };
}
