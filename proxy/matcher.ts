// A segment tree over path templates ("/orders/{id}/items"). Matching walks the
// request's segments once; a static segment beats a {param} at the same depth,
// with backtracking so "/orders/export" and "/orders/{id}" can both exist.
// A last segment "{name*}" matches the rest of the path, zero or more segments
// (Kong's prefix routes, imported by lib/access-import); it loses to any more
// specific static or {param} match.

export interface RouteEntry {
  id: string;
  apiId: string;
  method: string;
  pathTemplate: string;
  /** Canonical alternatives of scope-id sets (proxy/requirements.ts): the wire form. */
  requirements: string[][];
  public: boolean;
  /**
   * The same requirements compiled for the request path: interned scope numbers,
   * each alternative as its length followed by its scopes ([2, a, b, 1, c] for
   * "a AND b, or c"), so a decision walks one typed array and allocates nothing.
   */
  need: Int32Array;
}

interface Node {
  statics: Map<string, Node> | null;
  param: Node | null;
  methods: Map<string, RouteEntry> | null;
  /** Routes whose template ends here with "{name*}". */
  rest: Map<string, RouteEntry> | null;
}

const newNode = (): Node => ({ statics: null, param: null, methods: null, rest: null });

export function templateSegments(template: string): string[] {
  const t = template.length > 1 && template.endsWith("/") ? template.slice(0, -1) : template;
  return t === "/" || t === "" ? [] : t.replace(/^\//, "").split("/");
}

const isParam = (s: string) => s.length >= 2 && s.startsWith("{") && s.endsWith("}");
export const isRestParam = (s: string) => s.length >= 3 && s.startsWith("{") && s.endsWith("*}");

export class RouteMatcher {
  private root = newNode();
  size = 0;

  add(route: RouteEntry): void {
    let node = this.root;
    const segs = templateSegments(route.pathTemplate);
    const tail = segs.length > 0 && isRestParam(segs[segs.length - 1]);
    for (const seg of tail ? segs.slice(0, -1) : segs) {
      if (isParam(seg)) {
        node.param ??= newNode();
        node = node.param;
      } else {
        node.statics ??= new Map();
        let next = node.statics.get(seg);
        if (!next) node.statics.set(seg, (next = newNode()));
        node = next;
      }
    }
    const table = tail ? (node.rest ??= new Map()) : (node.methods ??= new Map());
    if (!table.has(route.method)) this.size++;
    table.set(route.method, route);
  }

  /** Route for method + segments (from index `from`: the API's prefix is not part of its templates), or null. HEAD falls back to GET. */
  match(method: string, segments: string[], from = 0): RouteEntry | null {
    const r = this.walk(this.root, segments, from, method);
    if (r || method !== "HEAD") return r;
    return this.walk(this.root, segments, from, "GET");
  }

  private walk(node: Node, segs: string[], i: number, method: string): RouteEntry | null {
    if (i === segs.length) return node.methods?.get(method) ?? node.rest?.get(method) ?? null;
    const s = node.statics?.get(segs[i]);
    if (s) {
      const r = this.walk(s, segs, i + 1, method);
      if (r) return r;
    }
    if (node.param) {
      const r = this.walk(node.param, segs, i + 1, method);
      if (r) return r;
    }
    return node.rest?.get(method) ?? null;
  }
}
