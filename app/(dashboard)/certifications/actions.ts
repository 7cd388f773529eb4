"use server";
import { revalidatePath } from "next/cache";
import { currentActor } from "@/lib/auth/session";
import { action } from "@/lib/auth/http";
import { bulkCertify, certifyItem, confirmItemDecision, delegateItems, rejectItemProposal, signOffCampaign } from "@/lib/campaigns";

// Thin wrappers: session → one lib call (zod validation, authorization, SoD live there).
function done<T>(r: T): T {
  revalidatePath("/certifications");
  return r;
}

const certify = action(async (input: unknown) => done(await certifyItem(await currentActor(), input)));
const bulk = action(async (input: unknown) => done(await bulkCertify(await currentActor(), input)));
const delegate = action(async (input: unknown) => done(await delegateItems(await currentActor(), input)));
const signOff = action(async (input: unknown) => done(await signOffCampaign(await currentActor(), input)));
const confirm = action(async (input: unknown) => done(await confirmItemDecision(await currentActor(), input)));
const reject = action(async (input: unknown) => done(await rejectItemProposal(await currentActor(), input)));

export async function certifyAction(input: unknown) {
  return certify(input);
}
export async function bulkCertifyAction(input: unknown) {
  return bulk(input);
}
export async function delegateAction(input: unknown) {
  return delegate(input);
}
export async function signOffAction(input: unknown) {
  return signOff(input);
}
/** Two-person rule: a second person confirms or rejects a proposed decision. */
export async function confirmProposalAction(input: unknown) {
  return confirm(input);
}
export async function rejectProposalAction(input: unknown) {
  return reject(input);
}
