import type { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { assertNotSelfReview, loadTwoPersonRule } from "@/lib/auth/sod";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { DECISION_TX, retrying } from "@/lib/db/retry";
import { conflict, forbidden, fromZod, notFound } from "@/lib/errors";
import type { DecisionKind, EnforcementState } from "@/lib/generated/prisma/client";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { lockOpenFinding, type LockedFinding } from "./load";
import { confirmProposal, planDecision, recordDecision, twoPersonRuleCovers, type DecisionGrant } from "./record";
import { approveInput, confirmInput, reduceInput, revokeInput } from "./schemas";

export interface DecisionResult {
  decisionId: string;
  findingId: string;
  kind: DecisionKind;
  /** Two-person rule: nothing was applied yet; a different reviewer must confirm. */
  awaitingConfirmation: boolean;
  enforcement: EnforcementState;
}

type UserActor = Extract<Actor, { kind: "user" }>;

function requireReviewer(actor: Actor): UserActor {
  authorize(actor, "findings:decide");
  // A decision is signed by a person: tokens and jobs cannot decide.
  if (actor.kind !== "user") throw forbidden("Only a signed-in reviewer can decide a finding");
  return actor;
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

const decisionGrant = (f: LockedFinding): DecisionGrant => ({ id: f.grantId, ...f.grant });

interface Proposal {
  kind: DecisionKind;
  findingId: string;
  justification: string | null;
  reReviewAt: Date | null;
  keepScopeIds?: string[];
}

/** The one path every decision kind takes: lock → SoD → plan → (propose | apply) → audit, in one transaction. */
async function decide(actor: UserActor, proposal: Proposal, client: PrismaClient): Promise<DecisionResult> {
  // Contention (no connection in time, timeout, deadlock) re-runs the whole transaction, then answers "busy" (503);
  // a re-run after a commit we did not hear about finds the finding decided (409). lib/db/retry.ts.
  const result = await retrying(client, "record the decision").$transaction(async (tx) => {
    const now = new Date();
    const finding = await lockOpenFinding(tx, proposal.findingId);
    await assertNotSelfReview(tx, actor, finding.grantId);

    const grant = decisionGrant(finding);
    const planned = await planDecision(tx, grant, proposal.kind, proposal.keepScopeIds, now);
    const awaiting = await twoPersonRuleCovers(tx, grant, planned.plan, await loadTwoPersonRule(tx));
    const { decisionId, plan, kept, enforcement } = await recordDecision(tx, {
      deciderId: actor.userId,
      grant,
      findingId: finding.id,
      campaignItemId: null,
      kind: proposal.kind,
      justification: proposal.justification,
      reReviewAt: proposal.reReviewAt,
      keepScopeIds: proposal.keepScopeIds,
      planned,
      awaitingConfirmation: awaiting,
      now,
    });
    await appendAuditEvent(tx, {
      actor,
      action: awaiting ? `decision.propose_${proposal.kind}` : `decision.${proposal.kind}`,
      target: `finding:${finding.id}`,
      data: {
        decisionId,
        grantId: finding.grantId,
        rule: finding.rule,
        principal: finding.grant.principal.displayName,
        scope: finding.grant.scope.name,
        environment: finding.grant.environment.name,
        justification: proposal.justification,
        reReviewAt: proposal.reReviewAt?.toISOString() ?? null,
        revokedGrantIds: plan.revokeGrantIds,
        keptScopeIds: kept,
        awaitingConfirmation: awaiting,
      },
    });
    return { decisionId, findingId: finding.id, kind: proposal.kind, awaitingConfirmation: awaiting, enforcement };
  }, DECISION_TX);
  if (result.enforcement === "pending") wakeDelivery();
  return result;
}

export async function approveFinding(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<DecisionResult> {
  const reviewer = requireReviewer(actor);
  const v = parse(approveInput, input);
  return decide(reviewer, { kind: "approve", findingId: v.findingId, justification: v.justification, reReviewAt: v.reReviewAt ?? null }, client);
}

export async function revokeGrant(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<DecisionResult> {
  const reviewer = requireReviewer(actor);
  const v = parse(revokeInput, input);
  return decide(reviewer, { kind: "revoke", findingId: v.findingId, justification: v.justification ?? null, reReviewAt: null }, client);
}

export async function reduceGrant(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<DecisionResult> {
  const reviewer = requireReviewer(actor);
  const v = parse(reduceInput, input);
  return decide(
    reviewer,
    { kind: "reduce", findingId: v.findingId, justification: v.justification ?? null, reReviewAt: null, keepScopeIds: v.keepScopeIds },
    client,
  );
}

/**
 * Two-person rule: a different reviewer confirms a proposed decision, which is
 * then applied exactly as if it had been decided directly (confirmProposal,
 * ./record.ts). If the finding or its grant changed meanwhile, the proposal is
 * stale: conflict.
 */
export async function confirmDecision(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<DecisionResult> {
  const reviewer = requireReviewer(actor);
  const { decisionId } = parse(confirmInput, input);
  const result = await retrying(client, "confirm the decision").$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Decision" WHERE id = ${decisionId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound("Decision");
    const proposal = await tx.decision.findUniqueOrThrow({ where: { id: decisionId } });
    if (proposal.enforcement !== "proposed") throw conflict("This decision is not waiting for confirmation");
    if (proposal.deciderId === reviewer.userId) throw forbidden("Two-person rule: a different reviewer must confirm this decision");
    if (!proposal.findingId) throw conflict("This decision has no finding to confirm");
    const finding = await lockOpenFinding(tx, proposal.findingId, { confirming: decisionId });
    await assertNotSelfReview(tx, reviewer, finding.grantId);
    const { plan, enforcement } = await confirmProposal(tx, proposal, decisionGrant(finding), reviewer.userId, new Date());
    await appendAuditEvent(tx, {
      actor: reviewer,
      action: `decision.confirm_${proposal.kind}`,
      target: `finding:${finding.id}`,
      data: { decisionId, proposedBy: proposal.deciderId, revokedGrantIds: plan.revokeGrantIds },
    });
    return { decisionId, findingId: finding.id, kind: proposal.kind, awaitingConfirmation: false, enforcement };
  }, DECISION_TX);
  if (result.enforcement === "pending") wakeDelivery();
  return result;
}
