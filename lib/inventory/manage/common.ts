import { z } from "zod";
import type { Tx } from "@/lib/db";
import { conflict, notFound } from "@/lib/errors";

type Table = "Principal" | "Grant" | "Api" | "Endpoint" | "Scope";
const LABEL: Record<Table, string> = { Principal: "Principal", Grant: "Grant", Api: "API", Endpoint: "Endpoint", Scope: "Scope" };

/** Locks one row for the rest of the transaction; a malformed or unknown id is a 404. */
export async function lockRow(tx: Tx, table: Table, id: string): Promise<void> {
  if (!z.uuid().safeParse(id).success) throw notFound(LABEL[table]);
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM "${table}" WHERE id = $1::uuid FOR UPDATE`, id);
  if (rows.length === 0) throw notFound(LABEL[table]);
}

/** A unique-constraint violation (Prisma P2002) as a 409 with a message the caller can act on. */
export async function uniqueConflict<T>(message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") throw conflict(message);
    throw e;
  }
}

/** A future instant (expiry), at most a year ahead; null clears it. */
export const expiry = (field: string) =>
  z.coerce
    .date(`${field} must be a date-time`)
    .refine((d) => d.getTime() > Date.now(), "must be in the future")
    .refine((d) => d.getTime() <= Date.now() + 366 * 86_400_000, "at most 366 days ahead")
    .nullable();
