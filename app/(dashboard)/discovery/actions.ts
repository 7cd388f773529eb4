"use server";
import { revalidatePath } from "next/cache";
import { action } from "@/lib/action";
import {
  addShadowInput,
  addShadowToInventory,
  dismissShadowEndpoint,
  dismissShadowInput,
  scopeLevelInput,
  setScopeLevel,
  stopRoutingZombie,
  stopZombieInput,
} from "@/lib/discovery";

// Thin wrappers (lib/action.ts): session → zod → one lib call (authorization and audit inside).
export const setScopeLevelAction = action(scopeLevelInput, async (input, { actor }) => {
  const scope = await setScopeLevel(actor, input);
  revalidatePath(`/apis/${scope.apiId}`);
  return { id: scope.id, level: scope.level };
});

export const addShadowAction = action(addShadowInput, async (input, { actor }) => {
  const r = await addShadowToInventory(actor, input);
  revalidatePath("/discovery");
  return r;
});

export const dismissShadowAction = action(dismissShadowInput, async (input, { actor }) => {
  await dismissShadowEndpoint(actor, input);
  revalidatePath("/discovery");
  return { id: input.id };
});

export const stopRoutingZombieAction = action(stopZombieInput, async (input, { actor }) => {
  const r = await stopRoutingZombie(actor, input);
  revalidatePath("/discovery");
  return r;
});
