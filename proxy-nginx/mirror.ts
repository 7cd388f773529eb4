import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "pino";
import { Agent, request } from "undici";
import type { Op } from "../proxy/schemas";
import type { EnforcementState } from "../proxy/state";

// Keeps nginx's shared dicts equal to the controller's acknowledged state,
// through the control socket (lua/tollgate/control.lua). Incremental when the
// dicts are at a revision whose successors are still in the log, else a full
// load into a fresh generation that becomes visible in one write.

type LuaValue = Record<string, unknown>;

const ms = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) : null);

/** The request path's view of APIs and routes, with each upstream resolved to an address nginx can dial. */
export async function topologyJson(state: EnforcementState): Promise<string> {
  const apis = [];
  for (const a of state.apis.values()) {
    const u = new URL(a.upstream);
    const host = u.hostname.replace(/^\[|\]$/g, "");
    // balancer_by_lua dials addresses only: resolve names here, on every topology push.
    const addr = isIP(host) ? host : (await lookup(host)).address;
    const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
    apis.push({ id: a.id, prefix: a.prefix, scheme: u.protocol.slice(0, -1), addr, port, hostHeader: u.host, base: u.pathname.replace(/\/+$/, ""), keyLocation: a.keyLocation ?? null });
  }
  const routes = [];
  for (const r of state.routes.values()) routes.push({ id: r.id, apiId: r.apiId, method: r.method, pathTemplate: r.pathTemplate, requirements: r.requirements, public: r.public });
  return JSON.stringify({ apis, routes });
}

function luaOp(o: Op): LuaValue | null {
  if (o.op === "delete") return o.kind === "credential" || o.kind === "grant" ? { op: "delete", kind: o.kind, id: o.id } : null;
  if (o.kind === "credential") return { op: "upsert", kind: "credential", value: { ...o.value, expiresAt: ms(o.value.expiresAt) } };
  if (o.kind === "grant") return { op: "upsert", kind: "grant", value: { ...o.value, expiresAt: ms(o.value.expiresAt) } };
  return null;
}

export class NginxUnavailable extends Error {}

const CHUNK = 20_000;
const LOG_CAP = 50_000;

export class NginxMirror {
  /** The revision nginx's dicts were last seen at (null: unknown or empty). */
  revision: number | null = null;
  private readonly agent: Agent;
  /**
   * A revoke's early /remove has a connection of its own: on the shared two it could queue behind a usage drain
   * and a full load's chunk (hundreds of milliseconds at the full state) while the revoked key is still allowed.
   */
  private readonly removals: Agent;
  private readonly log: { rev: number; ops: Op[] }[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    socketPath: string,
    private readonly source: { revision: number; state: EnforcementState | null; serving: EnforcementState | null },
    private readonly logger: Logger,
  ) {
    this.agent = new Agent({ connect: { socketPath }, connections: 2 });
    this.removals = new Agent({ connect: { socketPath }, connections: 1 });
  }

  async control(method: "GET" | "POST", path: string, body?: unknown, dispatcher: Agent = this.agent): Promise<{ status: number; json: Record<string, unknown> }> {
    try {
      const res = await request(`http://tollgate-control${path}`, { method, dispatcher, body: body === undefined ? (method === "POST" ? "{}" : undefined) : typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" }, headersTimeout: 30_000 });
      const text = await res.body.text();
      return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    } catch (e) {
      this.revision = null;
      throw new NginxUnavailable(`nginx control socket: ${(e as Error).message}`);
    }
  }

  /** An acknowledged batch, kept until nginx holds it. */
  record(rev: number, ops: Op[]): void {
    this.log.push({ rev, ops });
    if (this.log.length > LOG_CAP) this.log.splice(0, this.log.length - LOG_CAP); // a gap later means a full load
  }

  /** A batch's grant and credential deletes at once, before its fsync: nginx applies them only while its dicts are before `revision` (the batch's). */
  async removeNow(removals: Op[], revision: number): Promise<void> {
    const ops = removals.map(luaOp).filter((o) => o !== null);
    if (ops.length > 0) await this.control("POST", `/remove?revision=${revision}`, { ops }, this.removals);
  }

  /** Resolves once nginx's dicts hold the source's current revision; one sync at a time. */
  sync(): Promise<void> {
    const run = this.chain.then(() => this.syncOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async syncOnce(): Promise<void> {
    const status = await this.control("GET", "/status");
    const at = status.json.ready === true && typeof status.json.revision === "number" ? status.json.revision : null;
    // An empty nginx (fresh start) gets nothing while the controller holds its persisted state back for a
    // first pull: it keeps answering 503. An nginx that is serving always gets the controller's state,
    // held back or not: that state holds every acknowledged change, so it is never older than the dicts.
    const state = at === null ? this.source.serving : this.source.state;
    if (!state) return;
    const target = this.source.revision;
    if (at === target) {
      this.revision = target;
      return this.trim(target);
    }
    if (at !== null && at < target) {
      const needed = this.log.filter((e) => e.rev > at && e.rev <= target).sort((a, b) => a.rev - b.rev);
      if (needed.length === target - at && needed.every((e, i) => e.rev === at + 1 + i)) {
        const ops = needed.flatMap((e) => e.ops);
        const body: LuaValue = { ops: ops.map(luaOp).filter((o) => o !== null) };
        if (ops.some((o) => o.kind === "api" || o.kind === "route")) body.topology = await topologyJson(state);
        const r = await this.control("POST", `/ops?from=${at}&to=${target}`, body);
        if (r.status === 200) {
          this.revision = target;
          return this.trim(target);
        }
        if (r.status !== 409) throw new NginxUnavailable(`nginx refused ops: ${r.status} ${JSON.stringify(r.json)}`);
      }
    }
    await this.fullLoad(state, target);
  }

  private trim(rev: number): void {
    while (this.log.length > 0 && this.log[0].rev <= rev) this.log.shift();
  }

  /** Writes the whole state into a new generation, then switches to it (old keys are swept by nginx). */
  private async fullLoad(state: EnforcementState, target: number): Promise<void> {
    const t = Date.now();
    // Built before any await, so the chunks are one consistent state at `target`.
    const chunks: { credentials: LuaValue[]; grants: LuaValue[] }[] = [];
    let cur: { credentials: LuaValue[]; grants: LuaValue[] } = { credentials: [], grants: [] };
    const push = () => {
      if (cur.credentials.length + cur.grants.length >= CHUNK) {
        chunks.push(cur);
        cur = { credentials: [], grants: [] };
      }
    };
    for (const c of state.credentialsById.values()) {
      cur.credentials.push({ id: c.id, principalId: c.principalId, hash: c.hash, expiresAt: c.expiresAt });
      push();
    }
    for (const { kind, value } of state.values()) {
      if (kind !== "grant") continue;
      const g = value as { id: string; principalId: string; scopeId: string; expiresAt: string | null };
      const enforced = state.grantFor(g.principalId, g.scopeId)?.id === g.id;
      cur.grants.push({ id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: ms(g.expiresAt), enforced });
      push();
    }
    chunks.push(cur);
    const topology = await topologyJson(state);
    const begin = await this.control("POST", "/load/begin");
    const generation = begin.json.generation;
    for (const c of chunks) {
      const r = await this.control("POST", `/load/chunk?generation=${generation}`, c);
      if (r.status !== 200) throw new NginxUnavailable(`nginx refused a state chunk: ${r.status} ${JSON.stringify(r.json)}`);
    }
    const r = await this.control("POST", `/load/commit?generation=${generation}&revision=${target}`, { topology });
    if (r.status !== 200) throw new NginxUnavailable(`nginx refused the commit: ${r.status} ${JSON.stringify(r.json)}`);
    this.revision = target;
    this.trim(target);
    this.logger.info({ revision: target, generation, ms: Date.now() - t }, "nginx state loaded");
  }

  /** Usage counted by the Lua module since the last drain ("r|a|s\t…" keys, see lua/tollgate.lua). */
  async drainUsage(): Promise<Record<string, number>> {
    const r = await this.control("POST", "/usage");
    return (r.json.counts as Record<string, number>) ?? {};
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.removals.close()]);
  }
}
