import { createHash } from "node:crypto";
import type { Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { conflict, notFound } from "@/lib/errors";
import { parse, requireCertifier } from "./common";
import { signOffInput } from "./schemas";

export interface SignOffResult {
  signOffId: string;
  itemCount: number;
  itemsSha256: string;
  signedAt: Date;
}

/**
 * The reviewer's final attestation, only once every item on their list is
 * decided — a proposal still awaiting a second reviewer (on their list, or
 * proposed by them) is not decided. It records how many items they decided or
 * confirmed and a SHA-256 over them (id|decision|decidedAt in id order), so a
 * later change to those items is visible against the signature.
 */
export async function signOffCampaign(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<SignOffResult> {
  const person = requireCertifier(actor);
  const v = parse(signOffInput, input);
  return client.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ status: string }[]>`SELECT status::text FROM "Campaign" WHERE id = ${v.campaignId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound("Campaign");
    if (locked[0].status === "closed") throw conflict("This campaign is closed; sign-offs are frozen");
    if (locked[0].status === "draft") throw conflict("This campaign has not been launched");
    const awaiting = await tx.campaignItem.count({
      where: {
        campaignId: v.campaignId,
        decision: null,
        decisions: { some: { awaitingConfirmation: true } },
        OR: [{ reviewers: { some: { userId: person.userId } } }, { decisions: { some: { awaitingConfirmation: true, deciderId: person.userId } } }],
      },
    });
    if (awaiting > 0) throw conflict(`${awaiting} item(s) of yours await a second reviewer (two-person rule): sign off once they are confirmed or rejected`);
    const pending = await tx.campaignItem.count({ where: { campaignId: v.campaignId, decision: null, reviewers: { some: { userId: person.userId } } } });
    if (pending > 0) throw conflict(`Decide every item first: ${pending} still open on your list`);
    const decided = await tx.campaignItem.findMany({
      where: { campaignId: v.campaignId, OR: [{ decidedById: person.userId }, { confirmedById: person.userId }] },
      select: { id: true, decision: true, decidedAt: true },
      orderBy: { id: "asc" },
    });
    if (decided.length === 0) throw conflict("You have no decided items in this campaign to sign off");
    if (await tx.campaignSignOff.findUnique({ where: { campaignId_userId: { campaignId: v.campaignId, userId: person.userId } } })) {
      throw conflict("You already signed off this campaign");
    }
    const itemsSha256 = createHash("sha256")
      .update(decided.map((i) => `${i.id}|${i.decision}|${i.decidedAt?.toISOString()}`).join("\n"))
      .digest("hex");
    const signOff = await tx.campaignSignOff.create({
      data: { campaignId: v.campaignId, userId: person.userId, attestation: v.attestation, itemCount: decided.length, itemsSha256, signedAt: now },
    });
    await appendAuditEvent(tx, {
      actor: person,
      action: "campaign.sign_off",
      target: `campaign:${v.campaignId}`,
      data: { attestation: v.attestation, itemCount: decided.length, itemsSha256 },
    });
    return { signOffId: signOff.id, itemCount: decided.length, itemsSha256, signedAt: now };
  });
}
