import { createHash } from "node:crypto";
import { z } from "zod";
import { badRequest } from "@/lib/errors";
import type { DesiredApi, DesiredEndpoint, DesiredGrant, DesiredScope, DesiredState, KeyLocation, Level, Note } from "../desired";
import { aclConfig, keyAuthConfig, requestTerminationConfig, type KongConfig, type KongPlugin, type KongRoute, type KongService } from "./schema";

// Kong declarative configuration -> what Tollgate should hold, so that after
// the import every consumer holds exactly the access Kong gave it. Semantics
// follow kong/plugins/key-auth/handler.lua and kong/plugins/acl/handler.lua
// (docs/IMPORT.md, "Kong"):
// - each (service, route path) becomes an API served by the proxy under that
//   path (Kong paths are prefixes; the longest one wins, like the proxy's API
//   prefixes), upstream = the service URL (+ the path when strip_path is false);
//   each method becomes an endpoint "/{path*}" (any remainder);
// - key-auth without acl: any consumer with a key -> scope "kong:consumers";
//   acl allow G: one scope "acl:<g>" per group, each a single-scope alternative,
//   granted to the consumers in g; acl deny D: scope "kong:not-in:<D>" granted
//   to every consumer in none of D (a consumer with no groups passes a deny list
//   and fails an allow list, as in Kong);
// - key-auth with `anonymous`: when the anonymous consumer passes the acl (or
//   there is none) the route needs no key -> public;
// - no authentication plugin -> public (shown as not enforced); acl without
//   key-auth (Kong: always 401), request-termination, or an authentication
//   plugin Tollgate does not model -> blocked (no scope, not public): fail closed.

const ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const AUTH_PLUGINS = new Set([
  "basic-auth", "jwt", "oauth2", "hmac-auth", "ldap-auth", "ldap-auth-advanced", "openid-connect", "mtls-auth",
  "key-auth-enc", "session", "vault-auth", "oauth2-introspection", "saml",
]);
const MODELLED = new Set(["key-auth", "acl", "request-termination"]);
export const REST_TEMPLATE = "/{path*}";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const esc = (k: PropertyKey) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");

type Ref = string | { id?: string; name?: string; username?: string } | null | undefined;
const refName = (r: Ref): string | null => (r == null ? null : typeof r === "string" ? r : (r.name ?? r.username ?? r.id ?? null));

interface Consumer {
  ext: string;
  displayName: string;
  pointer: string;
  groups: Set<string>;
  blocked: string | null;
  tags: string[];
}

interface PlacedPlugin {
  plugin: KongPlugin;
  pointer: string;
}

type Access =
  | { kind: "public"; why: string; keyLocation?: KeyLocation }
  | { kind: "blocked"; why: string; keyLocation?: KeyLocation }
  | { kind: "scoped"; scopes: { name: string; test: (c: Consumer) => boolean; description: string }[]; keyLocation: KeyLocation; why: string; publicOptions: boolean };

export function translateKong(config: KongConfig, filename: string): DesiredState {
  const notImported: Note[] = [];
  const warnings: Note[] = [];
  const fail = (where: string, message: string): never => {
    throw badRequest(`${filename} ${where}: ${message}; nothing was imported`, where);
  };

  // ---------------------------------------------------------------- consumers, keys, groups
  const consumers: Consumer[] = [];
  const byRef = new Map<string, Consumer>();
  (config.consumers ?? []).forEach((c, i) => {
    const pointer = `/consumers/${i}`;
    const label = c.username ?? c.custom_id!;
    const consumer: Consumer = { ext: `consumer:${label}`, displayName: label, pointer, groups: new Set(), blocked: null, tags: c.tags ?? [] };
    for (const key of [c.username, c.id, c.custom_id]) {
      if (key === undefined) continue;
      const prior = byRef.get(key);
      if (prior && prior !== consumer) fail(pointer, `consumer ${JSON.stringify(key)} is defined twice (also at ${prior.pointer})`);
      byRef.set(key, consumer);
    }
    consumers.push(consumer);
  });
  const consumerFor = (ref: Ref, where: string): Consumer => {
    const n = refName(ref);
    const c = n === null ? undefined : byRef.get(n);
    if (!c) fail(where, `consumer ${JSON.stringify(n)} does not exist in this file`);
    return c!;
  };

  const credentials: DesiredState["credentials"] = [];
  const seenKeys = new Map<string, string>();
  const addKey = (consumer: Consumer, cred: { key?: string; ttl?: number | null }, pointer: string) => {
    if (cred.key === undefined) {
      warnings.push({ where: pointer, message: "credential without a key (Kong generates one): not imported" });
      return;
    }
    if (cred.key.length === 0) fail(`${pointer}/key`, "the key is empty");
    // Hashed here; the plaintext goes no further (not stored, not in plans, errors or audit).
    const hash = sha256(cred.key);
    const prior = seenKeys.get(hash);
    if (prior) fail(`${pointer}/key`, `duplicate key: the same key is already given at ${prior}/key`);
    seenKeys.set(hash, pointer);
    if (cred.ttl != null) warnings.push({ where: `${pointer}/ttl`, message: "ttl is not imported (the key is imported without expiry)" });
    credentials.push({ ext: `key:${hash}`, principalExt: consumer.ext, hash, prefix: `kong_${hash.slice(0, 8)}`, expiresAt: null });
  };
  (config.consumers ?? []).forEach((c, i) => {
    const consumer = consumers[i];
    (c.keyauth_credentials ?? []).forEach((k, j) => addKey(consumer, k, `/consumers/${i}/keyauth_credentials/${j}`));
    (c.acls ?? []).forEach((a) => consumer.groups.add(a.group));
  });
  (config.keyauth_credentials ?? []).forEach((k, i) => addKey(consumerFor(k.consumer, `/keyauth_credentials/${i}/consumer`), k, `/keyauth_credentials/${i}`));
  (config.acls ?? []).forEach((a, i) => consumerFor(a.consumer, `/acls/${i}/consumer`).groups.add(a.group));

  // ---------------------------------------------------------------- services, routes, plugins
  const services: { svc: KongService; pointer: string; key: string }[] = [];
  const serviceByRef = new Map<string, (typeof services)[number]>();
  (config.services ?? []).forEach((svc, i) => {
    const key = svc.name ?? svc.id ?? `service-${i}`;
    const entry = { svc, pointer: `/services/${i}`, key };
    for (const r of [svc.name, svc.id]) {
      if (r === undefined) continue;
      if (serviceByRef.has(r)) fail(`/services/${i}`, `service ${JSON.stringify(r)} is defined twice`);
      serviceByRef.set(r, entry);
    }
    services.push(entry);
  });

  interface PlacedRoute {
    route: KongRoute;
    pointer: string;
    service: (typeof services)[number];
    label: string;
  }
  const routes: PlacedRoute[] = [];
  const routeByRef = new Map<string, PlacedRoute>();
  const addRoute = (route: KongRoute, pointer: string, service: (typeof services)[number]) => {
    const placed = { route, pointer, service, label: route.name ?? route.id ?? pointer };
    for (const r of [route.name, route.id]) if (r !== undefined) routeByRef.set(r, placed);
    routes.push(placed);
  };
  services.forEach((s) => (s.svc.routes ?? []).forEach((r, j) => addRoute(r, `${s.pointer}/routes/${j}`, s)));
  (config.routes ?? []).forEach((r, i) => {
    const sref = refName(r.service);
    const s = sref === null ? undefined : serviceByRef.get(sref);
    if (!s) fail(`/routes/${i}/service`, `service ${JSON.stringify(sref)} does not exist in this file`);
    addRoute(r, `/routes/${i}`, s!);
  });

  // Plugins by where they apply. Disabled plugins do not exist for Kong's plugin iterator.
  const global = new Map<string, PlacedPlugin>();
  const perService = new Map<string, Map<string, PlacedPlugin>>();
  const perRoute = new Map<PlacedRoute, Map<string, PlacedPlugin>>();
  const place = (p: KongPlugin, pointer: string, at: { service?: (typeof services)[number]; route?: PlacedRoute; consumer?: Consumer }) => {
    if (p.enabled === false) return;
    if (at.consumer) {
      if (p.name === "request-termination") {
        const cfg = requestTerminationConfig.safeParse(p.config ?? {});
        if (cfg.success && !cfg.data.trigger) {
          at.consumer.blocked = `request-termination (${cfg.data.status_code}) on the consumer`;
          return;
        }
      }
      notImported.push({ where: pointer, message: `plugin ${p.name} on consumer ${at.consumer.displayName}: not imported` });
      return;
    }
    const table = at.route
      ? (perRoute.get(at.route) ?? perRoute.set(at.route, new Map()).get(at.route)!)
      : at.service
        ? (perService.get(at.service.key) ?? perService.set(at.service.key, new Map()).get(at.service.key)!)
        : global;
    if (table.has(p.name)) fail(pointer, `plugin ${p.name} is configured twice on the same ${at.route ? "route" : at.service ? "service" : "global scope"} (also at ${table.get(p.name)!.pointer})`);
    table.set(p.name, { plugin: p, pointer });
  };
  (config.consumers ?? []).forEach((c, i) => (c.plugins ?? []).forEach((p, j) => place(p, `/consumers/${i}/plugins/${j}`, { consumer: consumers[i] })));
  services.forEach((s) => (s.svc.plugins ?? []).forEach((p, j) => place(p, `${s.pointer}/plugins/${j}`, { service: s })));
  routes.forEach((r) => (r.route.plugins ?? []).forEach((p, j) => place(p, `${r.pointer}/plugins/${j}`, { route: r })));
  (config.plugins ?? []).forEach((p, i) => {
    const pointer = `/plugins/${i}`;
    const at: Parameters<typeof place>[2] = {};
    if (p.consumer) at.consumer = consumerFor(p.consumer, `${pointer}/consumer`);
    if (p.route) {
      const r = routeByRef.get(refName(p.route) ?? "");
      if (!r) fail(`${pointer}/route`, `route ${JSON.stringify(refName(p.route))} does not exist in this file`);
      at.route = r;
    } else if (p.service) {
      const s = serviceByRef.get(refName(p.service) ?? "");
      if (!s) fail(`${pointer}/service`, `service ${JSON.stringify(refName(p.service))} does not exist in this file`);
      at.service = s;
    }
    place(p, pointer, at);
  });

  // ---------------------------------------------------------------- access per route
  const usedGroups = new Set<string>();
  const accessOf = (r: PlacedRoute): Access => {
    const effective = new Map<string, PlacedPlugin>(global);
    for (const [n, p] of perService.get(r.service.key) ?? []) effective.set(n, p);
    for (const [n, p] of perRoute.get(r) ?? []) effective.set(n, p);
    for (const [n, p] of effective) {
      if (!MODELLED.has(n)) notImported.push({ where: p.pointer, message: `plugin ${n} on route ${r.label}: not imported${AUTH_PLUGINS.has(n) ? " (authentication Tollgate does not model: the route is blocked at the proxy)" : ""}` });
    }
    const parseCfg = <T extends z.ZodType>(schema: T, p: PlacedPlugin): z.output<T> => {
      const parsed = schema.safeParse(p.plugin.config ?? {});
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        fail(`${p.pointer}/config${i.path.length ? "/" + i.path.map(esc).join("/") : ""}`, i.message);
      }
      return parsed.data as z.output<T>;
    };
    const keyAuthP = effective.get("key-auth");
    const ka = keyAuthP ? parseCfg(keyAuthConfig, keyAuthP) : null;
    // Kong runs key-auth (priority 1250) before acl (950) and request-termination (2):
    // even a blocked route reads the key where key-auth would, so callers get the same 401s.
    const keyLocation: KeyLocation | undefined = ka && (ka.key_in_header || ka.key_in_query) ? { names: ka.key_names, header: ka.key_in_header, query: ka.key_in_query } : undefined;
    const termination = effective.get("request-termination");
    const aclP = effective.get("acl");
    const acl = aclP ? parseCfg(aclConfig, aclP) : null;
    if (acl) acl.groups.forEach((g) => usedGroups.add(g));
    if (termination) {
      const cfg = parseCfg(requestTerminationConfig, termination);
      if (cfg.trigger) {
        notImported.push({ where: termination.pointer, message: `request-termination with a trigger on route ${r.label}: not imported (the route is imported as if it were absent)` });
      } else return { kind: "blocked", why: `request-termination ${cfg.status_code}${cfg.message ? ` "${cfg.message}"` : ""}`, keyLocation };
    }
    const otherAuth = [...effective.keys()].filter((n) => AUTH_PLUGINS.has(n));
    if (otherAuth.length > 0) return { kind: "blocked", why: `authentication by ${otherAuth.join(", ")} (not modelled)`, keyLocation };
    if (!keyAuthP || !ka) {
      if (acl) return { kind: "blocked", why: "acl without an authentication plugin (Kong answers 401)" };
      return { kind: "public", why: "no authentication plugin" };
    }
    if (ka.key_in_body) warnings.push({ where: keyAuthP.pointer, message: `key_in_body on route ${r.label}: the proxy reads keys from headers and the query string only` });
    if (!ka.hide_credentials) warnings.push({ where: keyAuthP.pointer, message: `hide_credentials is false on route ${r.label}: Tollgate's proxy still strips the key from what it forwards (PROXY_FORWARD_API_KEY)` });
    if (!keyLocation) return { kind: "blocked", why: "key-auth reads the key from the request body only (not modelled)" };
    const scopes: Extract<Access, { kind: "scoped" }>["scopes"] = !acl
      ? [{ name: "kong:consumers", test: () => true, description: "Any Kong consumer with a key (key-auth without acl)" }]
      : acl.type === "allow"
        ? [...new Set(acl.groups)].map((g) => ({ name: `acl:${g}`, test: (c: Consumer) => c.groups.has(g), description: `Kong ACL group ${g}` }))
        : [{ name: `kong:not-in:${[...new Set(acl.groups)].sort().join(",")}`, test: (c: Consumer) => !acl.groups.some((g) => c.groups.has(g)), description: `Kong consumers in none of the denied ACL groups ${acl.groups.join(", ")}` }];
    const names = `key-auth (${ka.key_names.join(", ")} in ${[ka.key_in_header && "header", ka.key_in_query && "query"].filter(Boolean).join("/")})`;
    const why = acl ? `${names} + acl ${acl.type} ${acl.groups.join(", ") || "(none)"}` : names;
    if (ka.anonymous) {
      const anon = consumerFor(ka.anonymous, `${keyAuthP.pointer}/config/anonymous`);
      if (scopes.some((s) => s.test(anon))) {
        if (acl) warnings.push({ where: keyAuthP.pointer, message: `route ${r.label}: the anonymous consumer passes the acl, so the route is public; Kong would still refuse keys of consumers the acl refuses` });
        return { kind: "public", why: `${why}, anonymous consumer ${anon.displayName} lets requests without a key through`, keyLocation };
      }
    }
    return { kind: "scoped", scopes, keyLocation, why, publicOptions: !ka.run_on_preflight };
  };

  // ---------------------------------------------------------------- routes -> APIs by path
  interface ApiDraft {
    prefix: string;
    service: (typeof services)[number];
    baseUrl: string;
    keyLocation: KeyLocation | null;
    keyLocationFrom: string | null;
    methods: Map<string, { access: Access; route: PlacedRoute }>;
  }
  const apis = new Map<string, ApiDraft>();
  for (const r of routes) {
    const { route, service } = r;
    const where = r.pointer;
    if (service.svc.enabled === false) {
      notImported.push({ where, message: `route ${r.label}: its service ${service.key} is disabled` });
      continue;
    }
    const protocols = route.protocols ?? ["http", "https"];
    if (!protocols.some((p) => p === "http" || p === "https")) {
      notImported.push({ where, message: `route ${r.label}: protocols ${protocols.join(", ")} are not HTTP` });
      continue;
    }
    const upstream = upstreamOf(service.svc);
    if (!upstream) {
      notImported.push({ where: service.pointer, message: `route ${r.label}: service ${service.key} has no http(s) upstream URL` });
      continue;
    }
    if (route.hosts?.length) warnings.push({ where: `${where}/hosts`, message: `route ${r.label}: hosts ${route.hosts.join(", ")} are not matched by Tollgate's proxy (the route answers on any host)` });
    if (route.headers && Object.keys(route.headers).length) warnings.push({ where: `${where}/headers`, message: `route ${r.label}: header matching is not modelled` });
    const paths = route.paths ?? [];
    if (paths.length === 0) {
      notImported.push({ where, message: `route ${r.label}: no paths (host-only routes are not imported)` });
      continue;
    }
    const access = accessOf(r);
    const methods = route.methods?.length ? [...new Set(route.methods.map((m) => m.toUpperCase()))] : ALL_METHODS;
    paths.forEach((raw, j) => {
      const prefix = canonicalPrefix(raw);
      if (!prefix.ok) {
        notImported.push({ where: `${where}/paths/${j}`, message: `route ${r.label}: path ${JSON.stringify(raw)} ${prefix.reason}` });
        return;
      }
      if (prefix.trimmed) warnings.push({ where: `${where}/paths/${j}`, message: `route ${r.label}: trailing "/" dropped (${prefix.path} itself also matches at Tollgate's proxy)` });
      const strip = route.strip_path ?? true;
      const baseUrl = strip ? upstream : upstream.replace(/\/+$/, "") + prefix.path;
      let api = apis.get(prefix.path);
      if (!api) apis.set(prefix.path, (api = { prefix: prefix.path, service, baseUrl, keyLocation: null, keyLocationFrom: null, methods: new Map() }));
      else if (api.service !== service || api.baseUrl !== baseUrl) {
        fail(`${where}/paths/${j}`, `path ${prefix.path} is also routed to ${api.service.key} by another route (Tollgate's proxy matches by path only, not by host or header)`);
      }
      if (access.keyLocation) {
        const same = api.keyLocation && JSON.stringify(api.keyLocation) === JSON.stringify(access.keyLocation);
        if (api.keyLocation && !same) fail(r.pointer, `routes on path ${prefix.path} read the key from different key_names (also ${api.keyLocationFrom})`);
        api.keyLocation = access.keyLocation;
        api.keyLocationFrom = r.label;
      }
      for (const m of methods) {
        const prior = api.methods.get(m);
        if (prior && prior.route !== r) fail(`${where}/paths/${j}`, `${m} ${prefix.path} is matched by routes ${prior.route.label} and ${r.label}`);
        api.methods.set(m, { access, route: r });
      }
    });
  }

  // ---------------------------------------------------------------- desired objects
  const prefixesPerService = new Map<string, number>();
  for (const a of apis.values()) prefixesPerService.set(a.service.key, (prefixesPerService.get(a.service.key) ?? 0) + 1);
  const desiredApis: DesiredApi[] = [];
  const scopes = new Map<string, DesiredScope & { test: (c: Consumer) => boolean; methods: Set<string> }>();
  const endpoints: DesiredEndpoint[] = [];
  for (const a of [...apis.values()].sort((x, y) => x.prefix.localeCompare(y.prefix))) {
    const apiExt = `api:${a.service.key}:${a.prefix}`;
    const name = prefixesPerService.get(a.service.key) === 1 ? a.service.key : `${a.service.key} ${a.prefix}`;
    desiredApis.push({ ext: apiExt, name, baseUrl: a.baseUrl, proxyPrefix: a.prefix, keyLocation: a.keyLocation, description: `Kong service ${a.service.key}, routes on ${a.prefix}` });
    for (const [method, { access, route }] of [...a.methods].sort(([x], [y]) => x.localeCompare(y))) {
      const ext = `${apiExt}|${method}`;
      const base = { ext, apiExt, method, pathTemplate: REST_TEMPLATE };
      if (access.kind === "public") {
        endpoints.push({ ...base, public: true, scopeExts: [], summary: `Kong route ${route.label}: public, not enforced (${access.why})` });
      } else if (access.kind === "blocked" || (access.kind === "scoped" && access.scopes.length === 0)) {
        const why = access.kind === "blocked" ? access.why : `${access.why}: no group allowed`;
        endpoints.push({ ...base, public: false, scopeExts: [], summary: `Kong route ${route.label}: blocked (${why})` });
      } else if (method === "OPTIONS" && access.publicOptions) {
        endpoints.push({ ...base, public: true, scopeExts: [], summary: `Kong route ${route.label}: OPTIONS preflight not authenticated (run_on_preflight false)` });
      } else {
        const exts = access.scopes.map((s) => {
          const sext = `${apiExt}|${s.name}`;
          const existing = scopes.get(sext);
          if (existing) existing.methods.add(method);
          else scopes.set(sext, { ext: sext, apiExt, name: s.name, level: "read", description: s.description, test: s.test, methods: new Set([method]) });
          return sext;
        });
        endpoints.push({ ...base, public: false, scopeExts: exts, summary: `Kong route ${route.label}: ${access.why}` });
      }
    }
  }

  const grants: DesiredGrant[] = [];
  const desiredScopes: DesiredScope[] = [];
  for (const s of scopes.values()) {
    const level: Level = /admin|root|super/i.test(s.name) ? "admin" : [...s.methods].some((m) => !["GET", "HEAD", "OPTIONS"].includes(m)) ? "write" : "read";
    desiredScopes.push({ ext: s.ext, apiExt: s.apiExt, name: s.name, level, description: s.description });
    for (const c of consumers) {
      if (c.blocked || !s.test(c)) continue;
      grants.push({ ext: `${c.ext}|${s.ext}`, principalExt: c.ext, scopeExt: s.ext, expiresAt: null });
    }
  }
  for (const c of consumers) {
    if (c.blocked) warnings.push({ where: c.pointer, message: `consumer ${c.displayName}: ${c.blocked}: imported without any grant` });
    for (const g of c.groups) if (!usedGroups.has(g)) warnings.push({ where: c.pointer, message: `ACL group ${g} of consumer ${c.displayName} is used by no route's acl plugin` });
  }

  return {
    principals: consumers.map((c) => ({ ext: c.ext, displayName: c.displayName, kind: "service_account", tags: c.tags })),
    credentials,
    apis: desiredApis,
    scopes: desiredScopes,
    endpoints,
    grants,
    notImported: dedupe(notImported),
    warnings: dedupe(warnings),
  };
}

function dedupe(notes: Note[]): Note[] {
  const seen = new Set<string>();
  return notes.filter((n) => {
    const k = n.where + "\n" + n.message;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function upstreamOf(svc: KongService): string | null {
  let url = svc.url;
  if (!url && svc.host) {
    const protocol = svc.protocol ?? "http";
    const port = svc.port ?? (protocol === "https" ? 443 : 80);
    url = `${protocol}://${svc.host}:${port}${svc.path ?? ""}`;
  }
  if (!url) return null;
  try {
    const u = new URL(url);
    if ((u.protocol !== "http:" && u.protocol !== "https:") || u.search || u.hash) return null;
    return url.replace(/\/+$/, "");
  } catch {
    return null;
  }
}

// Kong 3.x marks regex paths with "~"; older formats treated paths with regex
// characters as regexes. Neither is a plain prefix the proxy can serve.
const REGEX_CHARS = /[\^$()[\]*+?{}|\\]/;
const SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,=:@%]+$/;

function canonicalPrefix(raw: string): { ok: true; path: string; trimmed: boolean } | { ok: false; reason: string } {
  if (raw.startsWith("~") || REGEX_CHARS.test(raw)) return { ok: false, reason: "is a regular expression (not imported)" };
  if (!raw.startsWith("/")) return { ok: false, reason: "does not start with /" };
  const trimmed = raw.length > 1 && raw.endsWith("/");
  const path = trimmed ? raw.replace(/\/+$/, "") : raw;
  if (path === "" || path === "/") return { ok: false, reason: "is the root path, which Tollgate's proxy does not serve as an API prefix" };
  if (path.startsWith("/_tollgate")) return { ok: false, reason: "is reserved by Tollgate's proxy" };
  const segs = path.slice(1).split("/");
  if (segs.some((s) => !SEGMENT.test(s) || s === "." || s === ".." || /%/.test(s))) return { ok: false, reason: "is not a plain path (dots, escapes or empty segments)" };
  return { ok: true, path, trimmed };
}
