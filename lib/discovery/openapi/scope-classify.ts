import type { Level } from "./extract";

/**
 * A scope's level, from its name and from the operations that require it
 * (issue 17, point 4), with the evidence shown to the admin who may override it:
 * - a name that says admin (`admin`, `*:admin`, `full_control`, `…:manage`) is admin;
 * - a scope required by a POST/PUT/PATCH/DELETE is at least write — unless every
 *   such operation requires it only together with a scope whose name says write
 *   (Swagger's petstore: POST /pet needs `write:pets` AND `read:pets`; holding
 *   `read:pets` alone writes nothing);
 * - a name that says write (`read_write`, `orders.write`, `delete`) is at least write;
 * - otherwise (required only by GET/HEAD/OPTIONS) it is read.
 */
export interface ScopeUse {
  method: string;
  pathTemplate: string;
  /** The other scopes of the same security requirement (required together with this one). */
  together: string[];
}

export interface Classification {
  level: Level;
  evidence: string[];
}

const word = (words: string) => new RegExp(`(^|[^a-z])(${words})([^a-z]|$)`, "i");
const ADMIN_NAME = word("admin|administrator|full_control|fullcontrol|superuser");
const MANAGE_NAME = /(^|[^a-z])manage$/i;
const WRITE_NAME = word("write|read_write|readwrite|edit|delete|create|update|upload|modify");
const READ_NAME = word("read|readonly|read_only|read-only|view");
const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

export const namesAdmin = (name: string) => ADMIN_NAME.test(name) || MANAGE_NAME.test(name);
export const namesWrite = (name: string) => WRITE_NAME.test(name);
const namesRead = (name: string) => READ_NAME.test(name) && !namesWrite(name);

const MAX_EXAMPLES = 3;
const examples = (uses: ScopeUse[]) => {
  const shown = uses.slice(0, MAX_EXAMPLES).map((u) => `${u.method} ${u.pathTemplate}`);
  return shown.join(", ") + (uses.length > MAX_EXAMPLES ? ` and ${uses.length - MAX_EXAMPLES} more` : "");
};

export function classifyScope(name: string, uses: ScopeUse[]): Classification {
  if (namesAdmin(name)) return { level: "admin", evidence: [`the name "${name}" says admin`] };
  const evidence: string[] = [];
  const writes = uses.filter((u) => !SAFE.has(u.method.toUpperCase()));
  const reads = uses.filter((u) => SAFE.has(u.method.toUpperCase()));
  const writesOnItsOwn = writes.filter((u) => !u.together.some((t) => namesWrite(t) || namesAdmin(t)));
  let level: Level = "read";
  if (writesOnItsOwn.length) {
    level = "write";
    evidence.push(`required by ${writesOnItsOwn.length} write operation${writesOnItsOwn.length > 1 ? "s" : ""}: ${examples(writesOnItsOwn)}`);
  } else if (writes.length) {
    const partner = writes[0].together.find((t) => namesWrite(t) || namesAdmin(t));
    evidence.push(`required by ${writes.length} write operation${writes.length > 1 ? "s" : ""} only together with a writing scope (e.g. ${partner} on ${writes[0].method} ${writes[0].pathTemplate})`);
  }
  if (reads.length) evidence.push(`required by ${reads.length} read operation${reads.length > 1 ? "s" : ""}: ${examples(reads)}`);
  if (namesWrite(name)) {
    if (level === "read") evidence.push(`the name "${name}" says write`);
    level = "write";
  } else if (namesRead(name)) {
    evidence.push(level === "read" ? `the name "${name}" says read` : `the name "${name}" says read, but write operations require it`);
  }
  return { level, evidence };
}
