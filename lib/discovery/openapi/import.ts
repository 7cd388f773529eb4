import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import { upstreamUrl } from "./base-url";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest, conflict, fromZod, notFound, AppError } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { computeDiff, isEmptyDiff, planHash, type Diff } from "./diff";
import { extractDescription, type Description } from "./extract";
import { ImportBudget, parseOpenApi } from "./parse";
import { loadInventoryState } from "./state";
import { openZombieFindings, resolveZombieFindings } from "../zombies";
import { summarizeSecurity, syncPublicWriteFindings, type SecuritySummary } from "./public-ops";
import { enqueueInventoryChanges } from "./outbox";
import { deleteRows, deprecateRows, insertEndpoints, insertScopes, refreshEndpoints, refreshScopeEvidence, refreshScopes, replaceEndpointLinks } from "./write-sets";
import { openApiMaxBytes, openApiMaxNodes, openApiMaxSeconds } from "../config";

// NUL in a name reached Postgres as a driver error (a 500); no name holds control characters.
// \p{Cc}: the C0 controls, DEL and the C1 controls.
const NO_CONTROL = /^\P{Cc}*$/u;
const inputSchema = z.object({
  apiName: z.string().trim().min(1, "is required").max(200).regex(NO_CONTROL, "must not contain control characters"),
  environment: z.string().trim().min(1, "is required").max(100).regex(NO_CONTROL, "must not contain control characters"),
  document: z.union([z.string(), z.instanceof(Buffer)]),
  filename: z.string().max(300).optional(),
  /** Upstream for an API the import creates; defaults to the document's server URL. */
  baseUrl: upstreamUrl.optional(),
});

export type ImportInput = z.input<typeof inputSchema>;
export interface ImportOptions {
  /** Overrides the configured size limit (CLI flag, tests on large real-world documents). */
  maxBytes?: number;
  /** Overrides the configured cap on nodes after YAML alias expansion. */
  maxNodes?: number;
  /** Overrides the configured time budget for processing the document. */
  maxSeconds?: number;
  client?: PrismaClient;
}

export interface ImportPlan {
  api: { id: string | null; name: string; environment: string; create: boolean; baseUrl: string };
  document: { version: string; label: string; title: string; operations: number; sha256: string; serverPathPrefix: string };
  diff: Diff;
  /** Operations that accept no credential (reads/writes), and those with no security at all (public-ops.ts). */
  security: SecuritySummary;
  empty: boolean;
  planHash: string;
}

export interface ImportResult extends ImportPlan {
  applied: true;
  auditTarget: string;
  outboxRows: number;
  findingsOpened: number;
  /** public_write findings (production environments only): opened now, and resolved because the endpoint is no longer a public write. */
  publicWriteFindings: { opened: number; resolved: number };
}

interface Prepared {
  input: z.output<typeof inputSchema>;
  description: Description;
  docMeta: Omit<ImportPlan["document"], "operations">;
}

async function prepare(actor: Actor, raw: ImportInput, opts: ImportOptions): Promise<Prepared> {
  authorize(actor, "imports:write");
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const input = parsed.data;
  const budget = new ImportBudget(opts.maxSeconds ?? openApiMaxSeconds());
  const { doc, version, label, title } = await parseOpenApi(input.document, {
    maxBytes: opts.maxBytes ?? openApiMaxBytes(),
    maxNodes: opts.maxNodes ?? openApiMaxNodes(),
    filename: input.filename,
    budget,
  });
  const description = extractDescription(doc);
  budget.check("reading operations");
  const sha256 = createHash("sha256").update(input.document).digest("hex");
  return { input, description, docMeta: { version, label, title, sha256, serverPathPrefix: description.serverPathPrefix } };
}

type Computed = ImportPlan & { environmentId: string; production: boolean };

async function computePlan(client: PrismaClient | Tx, p: Prepared, lock: boolean): Promise<Computed> {
  const env = await client.environment.findUnique({ where: { name: p.input.environment } });
  if (!env) throw notFound(`Environment ${p.input.environment}`);
  const api = await client.api.findUnique({ where: { name_environmentId: { name: p.input.apiName, environmentId: env.id } } });
  // Serialises concurrent imports (and grant changes read below) for this API until commit.
  if (api && lock) await client.$queryRaw`SELECT id FROM "Api" WHERE id = ${api.id}::uuid FOR UPDATE`;
  const baseUrl = api?.baseUrl ?? p.input.baseUrl ?? p.description.serverUrl;
  if (!baseUrl) {
    throw badRequest(`API ${p.input.apiName} does not exist in ${p.input.environment} and the document names no absolute server URL: pass baseUrl`, "baseUrl");
  }
  const state = await loadInventoryState(client, api?.id ?? null);
  const diff = computeDiff(state, p.description);
  const apiKey = { id: api?.id ?? null, name: p.input.apiName, environmentId: env.id, baseUrl };
  return {
    environmentId: env.id,
    production: env.tier === "production",
    security: summarizeSecurity(p.description, diff),
    api: { id: api?.id ?? null, name: p.input.apiName, environment: env.name, create: !api, baseUrl },
    document: { ...p.docMeta, operations: p.description.operations.length },
    diff,
    empty: isEmptyDiff(diff) && !!api,
    planHash: planHash(apiKey, state, diff),
  };
}

/** The diff a document would make, without writing anything. */
export async function planImport(actor: Actor, input: ImportInput, opts: ImportOptions = {}): Promise<ImportPlan> {
  const prepared = await prepare(actor, input, opts);
  const { environmentId: _, production: __, ...plan } = await computePlan(opts.client ?? db(), prepared, false);
  return plan;
}

/**
 * Applies a document in one transaction with its audit event, its findings and
 * one outbox row per proxy of the environment. With `expectedPlanHash` (what
 * the user reviewed) a plan gone stale in the meantime is a 409, not a surprise.
 */
export async function applyImport(
  actor: Actor,
  input: ImportInput & { expectedPlanHash?: string; confirmPublicWrites?: boolean },
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const prepared = await prepare(actor, input, opts);
  const client = opts.client ?? db();
  let result: ImportResult;
  try {
    result = await client.$transaction(
      async (tx) => {
        const plan = await computePlan(tx, prepared, true);
        if (input.expectedPlanHash && input.expectedPlanHash !== plan.planHash) {
          throw conflict("The inventory or the document changed since this plan was computed: review the new diff and apply again");
        }
        const opened = plan.security.newPublicWrites;
        if (opened.length && input.confirmPublicWrites !== true) {
          throw badRequest(
            `This import opens ${opened.length} write operation${opened.length === 1 ? "" : "s"} to callers without any credential (${opened.slice(0, 5).join(", ")}${opened.length > 5 ? ", …" : ""}): review them and confirm with confirmPublicWrites`,
            "confirmPublicWrites",
          );
        }
        return writePlan(tx, actor, prepared, plan);
      },
      // A 50,000-operation document writes for tens of seconds on a busy machine: the cap grows with it.
      { timeout: Math.max(120_000, prepared.description.operations.length * 5), maxWait: 10_000 },
    );
  } catch (e) {
    if (e instanceof AppError) throw e;
    if ((e as { code?: string }).code === "P2002") throw conflict("A concurrent change to the same API won: review the new diff and apply again");
    throw e;
  }
  if (result.outboxRows > 0) wakeDelivery();
  return result;
}

async function writePlan(tx: Tx, actor: Actor, p: Prepared, plan: Computed): Promise<ImportResult> {
  const now = new Date();
  const { diff } = plan;
  let apiId = plan.api.id;
  if (!apiId) {
    apiId = randomUUID();
    await tx.api.create({ data: { id: apiId, name: plan.api.name, environmentId: plan.environmentId, baseUrl: plan.api.baseUrl, description: p.docMeta.title || null } });
  }

  // Scopes first: endpoints link to them by id. Every write is one statement over arrays (write-sets.ts).
  const scopeIds = new Map((await tx.scope.findMany({ where: { apiId }, select: { id: true, name: true } })).map((s) => [s.name, s.id]));
  const newScopes = diff.scopes.added.map((s) => ({ id: randomUUID(), apiId: apiId!, name: s.name, level: s.level, evidence: s.evidence, description: s.description }));
  newScopes.forEach((s) => scopeIds.set(s.name, s.id));
  await insertScopes(tx, newScopes);
  const added = new Set(newScopes.map((s) => s.name));
  await refreshScopeEvidence(tx, apiId, p.description.scopes.filter((s) => !added.has(s.name)));
  await refreshScopes(tx, diff.scopes.changed.map((c) => ({ id: c.id, description: c.spec.description })));
  const scopeDeletes = diff.scopes.removed.filter((r) => r.action === "delete").map((r) => r.id);
  const scopeDeprecations = diff.scopes.removed.filter((r) => r.action === "deprecate");
  await deprecateRows(tx, "Scope", scopeDeprecations.map((r) => r.id), now);

  // Endpoints.
  const newEndpoints = diff.endpoints.added.map((e) => ({ id: randomUUID(), spec: e }));
  await insertEndpoints(
    tx,
    newEndpoints.map(({ id, spec }) => ({ id, apiId: apiId!, method: spec.method, pathTemplate: spec.pathTemplate, summary: spec.summary, public: spec.public })),
  );
  await refreshEndpoints(tx, diff.endpoints.changed.map((c) => ({ id: c.id, pathTemplate: c.spec.pathTemplate, summary: c.spec.summary, public: c.spec.public })));
  const relinked = diff.endpoints.changed.filter((c) => c.changes.some((f) => f.field === "scopes"));
  // One requirementId per alternative: its scopes are required together.
  const links = [...newEndpoints.map(({ id, spec }) => ({ id, requirements: spec.requirements })), ...relinked.map((c) => ({ id: c.id, requirements: c.spec.requirements }))].flatMap(
    ({ id, requirements }) =>
      requirements.flatMap((set) => {
        const requirementId = randomUUID();
        return set.map((name) => ({ endpointId: id, requirementId, scopeId: scopeIds.get(name)! }));
      }),
  );
  await replaceEndpointLinks(tx, relinked.map((c) => c.id), links);
  const endpointDeletes = diff.endpoints.removed.filter((r) => r.action === "delete").map((r) => r.id);
  const endpointDeprecations = diff.endpoints.removed.filter((r) => r.action === "deprecate").map((r) => r.id);
  await deprecateRows(tx, "Endpoint", endpointDeprecations, now);
  await deleteRows(tx, "Endpoint", endpointDeletes);
  await deleteRows(tx, "Scope", scopeDeletes);

  // A removed scope still held is never dropped silently: each active grant gets a finding.
  const findingsOpened = await openDeprecationFindings(tx, plan, scopeDeprecations, p.docMeta.sha256);

  const publicWriteFindings = await syncPublicWriteFindings(
    tx,
    { id: apiId, name: plan.api.name, environmentId: plan.environmentId, environment: plan.api.environment },
    plan.production,
    p.docMeta.sha256,
  );

  // Zombies: a newly deprecated endpoint with traffic in the window gets a finding now; an endpoint
  // back in the description is a zombie no longer.
  const zombieFindings = await openZombieFindings(tx, { endpointIds: endpointDeprecations });
  await resolveZombieFindings(tx, diff.endpoints.changed.filter((c) => c.changes.some((f) => f.field === "deprecated")).map((c) => c.id), "openapi-import", "back in the API description");

  const touched = [...newEndpoints.map((e) => e.id), ...diff.endpoints.changed.map((c) => c.id)];
  const outboxRows = await enqueueInventoryChanges(tx, {
    environmentId: plan.environmentId,
    idempotencyKey: `openapi-import:${randomUUID()}`,
    api: { id: apiId, name: plan.api.name, upstream: plan.api.baseUrl },
    upsertEndpointIds: touched,
    deleteEndpointIds: endpointDeletes,
  });

  const summary = {
    planHash: plan.planHash,
    documentSha256: p.docMeta.sha256,
    version: p.docMeta.version,
    apiCreated: plan.api.create,
    endpoints: { added: diff.endpoints.added.length, changed: diff.endpoints.changed.length, deleted: endpointDeletes.length, deprecated: endpointDeprecations.length },
    scopes: { added: diff.scopes.added.length, changed: diff.scopes.changed.length, deleted: scopeDeletes.length, deprecated: scopeDeprecations.length },
    findingsOpened,
    publicOperations: { reads: plan.security.publicReads, writes: plan.security.publicWrites, newWrites: plan.security.newPublicWrites.length },
    noSecurity: plan.security.noSecurity,
    publicWriteFindings,
    zombieFindings,
    outboxRows,
  };
  const auditTarget = `api:${apiId}`;
  await appendAuditEvent(tx, { actor, action: "inventory.openapi_import", target: auditTarget, data: summary });
  const { environmentId: _, production: __, ...rest } = plan;
  return { ...rest, api: { ...plan.api, id: apiId }, applied: true, auditTarget, outboxRows, findingsOpened, publicWriteFindings };
}

async function openDeprecationFindings(
  tx: Tx,
  plan: ImportPlan,
  deprecated: { id: string; name: string }[],
  documentSha256: string,
): Promise<number> {
  if (deprecated.length === 0) return 0;
  const grants = await tx.grant.findMany({
    where: { scopeId: { in: deprecated.map((s) => s.id) }, status: "active", findings: { none: { rule: "deprecated_scope", status: "open" } } },
    select: { id: true, scopeId: true, principalId: true },
  });
  const nameOf = new Map(deprecated.map((s) => [s.id, s.name]));
  await tx.finding.createMany({
    data: grants.map((g) => ({
      grantId: g.id,
      rule: "deprecated_scope" as const,
      severity: "medium" as const,
      riskScore: 50,
      evidence: {
        removal: `scope ${nameOf.get(g.scopeId)} was removed from the OpenAPI description of ${plan.api.name} (${plan.api.environment})`,
        scope: nameOf.get(g.scopeId),
        api: plan.api.name,
        environment: plan.api.environment,
        documentSha256,
        planHash: plan.planHash,
      },
      suggestion: `Revoke this grant, or restore scope ${nameOf.get(g.scopeId)} in the API description if it is still in use.`,
    })),
  });
  return grants.length;
}
