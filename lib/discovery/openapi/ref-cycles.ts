import { badRequest } from "@/lib/errors";

/**
 * Refuses `$ref` cycles outside schemas. A recursive schema (a tree node whose
 * children are tree nodes) is legitimate JSON Schema and stays accepted; a path
 * item, parameter, response, security scheme… that refers to itself, directly
 * or through other references, has no meaning: it can never be expanded, and
 * the validator otherwise lets it through (issue 17). The error names the JSON
 * pointer of the `$ref` that closes the cycle and the chain that leads back.
 *
 * Model: every non-schema `$ref` is a node; a reference R points at every
 * non-schema reference located at or below R's target (expanding R means
 * expanding them). A cycle in that graph is infinite expansion.
 */

interface Ref {
  /** JSON pointer of the object holding `$ref` (e.g. `/paths/~1pets/get/parameters/0`). */
  at: string;
  /** The target as a JSON pointer in the same escaping, or null when it is not a local pointer. */
  target: string | null;
  raw: string;
}

const escape = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** `#/paths/~1pets~1%7Bid%7D` → `/paths/~1pets~1{id}` (canonical: no percent-encoding). */
export function refPointer(ref: string): string | null {
  if (!ref.startsWith("#")) return null;
  const frag = ref.slice(1);
  if (frag === "") return "";
  if (!frag.startsWith("/")) return null; // a plain-name fragment (anchor), not a pointer
  let decoded: string;
  try {
    decoded = decodeURIComponent(frag);
  } catch {
    return null;
  }
  return decoded
    .slice(1)
    .split("/")
    .map((seg) => escape(seg.replace(/~1/g, "/").replace(/~0/g, "~")))
    .reduce((acc, seg) => `${acc}/${seg}`, "");
}

/**
 * A location inside a schema, where recursion is allowed: the schema registries
 * (`/components/schemas`, Swagger's `/definitions`) and anything below a
 * `schema` field (of a parameter, media type or Swagger response) or a `$defs`.
 */
function isSchemaPointer(pointer: string): boolean {
  const segs = pointer.split("/").slice(1);
  if (segs[0] === "definitions") return true;
  if (segs[0] === "components" && segs[1] === "schemas") return true;
  return segs.includes("schema") || segs.includes("$defs");
}

function collectRefs(doc: unknown): Ref[] {
  const refs: Ref[] = [];
  const stack: { node: unknown; path: string }[] = [{ node: doc, path: "" }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push({ node: child, path: `${path}/${i}` }));
      continue;
    }
    const ref = (node as Record<string, unknown>).$ref;
    if (typeof ref === "string") refs.push({ at: path, target: refPointer(ref), raw: ref });
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === "object" && value !== null) stack.push({ node: value, path: `${path}/${escape(key)}` });
    }
  }
  return refs;
}

export function rejectRefCycles(doc: unknown): void {
  const refs = collectRefs(doc).filter((r) => r.target !== null && !isSchemaPointer(r.target) && !isSchemaPointer(r.at));
  if (refs.length === 0) return;
  refs.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const ats = refs.map((r) => r.at);

  /** Indexes of the references located at `target` or below it. */
  const under = (target: string): number[] => {
    let lo = 0;
    let hi = ats.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ats[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < ats.length && ats[i].startsWith(target); i++) {
      if (ats[i].length === target.length || ats[i][target.length] === "/") out.push(i);
    }
    return out;
  };

  // Iterative depth-first search: 0 unvisited, 1 on the current path, 2 done.
  const state = new Uint8Array(refs.length);
  for (let start = 0; start < refs.length; start++) {
    if (state[start]) continue;
    const path: { i: number; next: number[]; k: number }[] = [{ i: start, next: under(refs[start].target!), k: 0 }];
    state[start] = 1;
    while (path.length) {
      const top = path[path.length - 1];
      if (top.k >= top.next.length) {
        state[top.i] = 2;
        path.pop();
        continue;
      }
      const j = top.next[top.k++];
      if (state[j] === 1) {
        const from = path.findIndex((p) => p.i === j);
        const chain = path.slice(from).map((p) => `${refs[p.i].at || "/"} → ${refs[p.i].raw}`);
        throw badRequest(
          `$ref cycle at ${refs[top.i].at || "/"}/$ref ("${refs[top.i].raw}"): ${chain.join(", ")} leads back to ${refs[j].at || "/"}; only schemas may be recursive`,
          "document",
        );
      }
      if (state[j] === 0) {
        state[j] = 1;
        path.push({ i: j, next: under(refs[j].target!), k: 0 });
      }
    }
  }
}
