import { CORE_SCHEMA, load as loadFast } from "js-yaml";
import { isAlias, isCollection, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { badRequest } from "@/lib/errors";

/**
 * The one way uploaded YAML becomes a JS value (OpenAPI imports, Kong
 * declarative config). YAML aliases make a small text describe a huge or
 * cyclic object: `/x: &p {x-self: *p}` is a self-containing object that any
 * later walk (validation, JSON.stringify, our own checks) follows for ever,
 * and nine lines of nested aliases ("billion laughs") expand to 10^9 nodes.
 * So before anything turns the tree into JS, its size AFTER alias expansion is
 * computed on the syntax tree (memoised per node, so the count itself is
 * cheap), a cycle is refused with the line of the alias that closes it, and
 * the alias count, the expanded node count and the nesting depth are capped.
 * What this returns is therefore acyclic and at most `maxNodes` nodes when
 * fully expanded, whatever walks it next.
 */
export interface YamlLimits {
  /** Alias nodes (`*name`) in the text. Real API descriptions use few or none. */
  maxAliases?: number;
  /** Nodes (mappings, sequences, pairs, scalars) once every alias is expanded. */
  maxNodes?: number;
  /** Nesting depth once aliases are expanded. */
  maxDepth?: number;
  /** The field named in the 400 (e.g. "document", "config"). */
  field?: string;
}

export const YAML_DEFAULT_LIMITS = { maxAliases: 10_000, maxNodes: 2_000_000, maxDepth: 500 } as const;

// An anchor ("&name") can only follow the start of a line, white space or a flow indicator. A document
// without one has no aliases (an alias needs an anchor), so it parses to a tree: no sharing, no cycle.
const MAYBE_ANCHOR = /(?:^|[\s[{,])&\S/;

export function parseYamlSafely(text: string, limits: YamlLimits = {}): unknown {
  return parseWithoutAnchors(text, limits) ?? parseChecked(text, limits);
}

/**
 * The fast path, for documents without anchors (Kong files, almost every API description): js-yaml with its
 * YAML 1.2 core schema, which resolves scalars as yaml's core schema does (it refuses duplicate keys, and
 * custom tags, too), parses ~8x faster than yaml's parseDocument (a 1.6 MB Kong file: 0.2-0.4 s against
 * 2-3 s). Undefined when the document may hold an anchor or js-yaml refuses it: then parseChecked decides,
 * and its error (with yaml's line and column) is the one reported.
 */
export function parseWithoutAnchors(text: string, limits: YamlLimits): unknown {
  if (MAYBE_ANCHOR.test(text)) return undefined;
  let value: unknown;
  try {
    value = loadFast(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  if (value === undefined) return undefined; // an empty document: parseChecked gives what it always gave
  // A tree, so its size is its node count, counted as parseChecked counts (a pair is one node besides its key
  // and value); over a limit, parseChecked reports it with the line.
  const maxNodes = limits.maxNodes ?? YAML_DEFAULT_LIMITS.maxNodes;
  const maxDepth = limits.maxDepth ?? YAML_DEFAULT_LIMITS.maxDepth;
  let nodes = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    nodes++;
    if (nodes > maxNodes || depth > maxDepth) return undefined;
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
    } else if (v !== null && typeof v === "object") {
      for (const item of Object.values(v)) {
        nodes += 2; // the pair and its key
        stack.push([item, depth + 1]);
      }
    }
  }
  return value;
}

/** yaml's parseDocument with every check on the syntax tree: anchors, aliases, errors with their line. */
export function parseChecked(text: string, limits: YamlLimits = {}): unknown {
  const field = limits.field ?? "document";
  const maxAliases = limits.maxAliases ?? YAML_DEFAULT_LIMITS.maxAliases;
  const maxNodes = limits.maxNodes ?? YAML_DEFAULT_LIMITS.maxNodes;
  const maxDepth = limits.maxDepth ?? YAML_DEFAULT_LIMITS.maxDepth;
  const lines = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { uniqueKeys: true, lineCounter: lines, prettyErrors: false });
  } catch (e) {
    // The parser recurses; absurd nesting can exhaust the stack before it reports anything.
    throw badRequest(`invalid YAML: ${(e as Error).message.split("\n")[0]}`, field);
  }
  const error = doc.errors[0];
  if (error) {
    const at = where(lines, error.pos?.[0]);
    throw badRequest(`invalid YAML${at}: ${error.message.split("\n")[0]}`, field);
  }

  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let aliases = 0;

  const size = (node: unknown, depth: number): number => {
    if (depth > maxDepth) throw badRequest(`YAML nests deeper than ${maxDepth} levels${where(lines, rangeStart(node))}`, field);
    if (node === null || node === undefined) return 1;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) throw badRequest(`YAML alias *${node.source}${where(lines, node.range?.[0])} refers to no anchor`, field);
      if (open.has(target)) {
        throw badRequest(`YAML alias *${node.source}${where(lines, node.range?.[0])} refers to a node that contains it (a cycle): aliases must not be recursive`, field);
      }
      return size(target, depth);
    }
    const known = sizes.get(node as Node);
    if (known !== undefined) return known;
    let total = 1;
    if (isScalar(node)) {
      // counted as one
    } else if (isCollection(node)) {
      open.add(node);
      for (const item of node.items) {
        if (isPair(item)) total += 1 + size(item.key, depth + 1) + size(item.value, depth + 1);
        else total += size(item, depth + 1);
        if (total > maxNodes) break;
      }
      open.delete(node);
    }
    if (total > maxNodes) {
      throw badRequest(`YAML expands to more than ${maxNodes} nodes once its aliases are resolved${where(lines, rangeStart(node))}: refusing a document this costly (an alias bomb?)`, field);
    }
    sizes.set(node as Node, total);
    return total;
  };

  // Aliases are counted on the text as written, before any expansion.
  const countAliases = (node: unknown): void => {
    if (isAlias(node)) {
      if (++aliases > maxAliases) throw badRequest(`YAML has more than ${maxAliases} aliases${where(lines, node.range?.[0])}`, field);
    } else if (isCollection(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          countAliases(item.key);
          countAliases(item.value);
        } else countAliases(item);
      }
    }
  };
  // Written depth is bounded before countAliases recurses over it (the expanded walk bounds it again).
  size(doc.contents, 0);
  countAliases(doc.contents);

  try {
    // Bounds were checked above; yaml's own alias heuristic would only add a vaguer refusal.
    return doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    throw badRequest(`invalid YAML: ${(e as Error).message.split("\n")[0]}`, field);
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

function where(lines: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return "";
  const { line, col } = lines.linePos(offset);
  return ` at line ${line}, column ${col}`;
}
