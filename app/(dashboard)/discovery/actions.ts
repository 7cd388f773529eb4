"use server";
import { revalidatePath } from "next/cache";
import { action } from "@/lib/auth/http";
import { currentActor } from "@/lib/auth/session";
import { addShadowToInventory, dismissShadowEndpoint, setScopeLevel, stopRoutingZombie } from "@/lib/discovery";

// Thin server action over lib/discovery: session → lib (zod + authorization + audit inside).
export const setScopeLevelAction = action(async (scopeId: string, level: "read" | "write" | "admin") => {
  const scope = await setScopeLevel(await currentActor(), { scopeId, level });
  revalidatePath(`/apis/${scope.apiId}`);
  return { id: scope.id, level: scope.level };
});

export const addShadowAction = action(async (id: string) => {
  const r = await addShadowToInventory(await currentActor(), { id });
  revalidatePath("/discovery");
  return r;
});

export const dismissShadowAction = action(async (id: string, reason: string) => {
  await dismissShadowEndpoint(await currentActor(), { id, reason });
  revalidatePath("/discovery");
  return { id };
});

export const stopRoutingZombieAction = action(async (endpointId: string, reason: string) => {
  const r = await stopRoutingZombie(await currentActor(), { endpointId, reason });
  revalidatePath("/discovery");
  return r;
});
