/**
 * Prisma turns case-insensitive equals, and contains/startsWith/endsWith, into
 * (I)LIKE without escaping the pattern characters, so `a_b` would match `axb`.
 * Every user-supplied value used that way goes through these.
 */
export const escapeLike = (v: string) => v.replace(/[\\%_]/g, "\\$&");

/** Case-insensitive equality on a literal. */
export const ieq = (v: string) => ({ equals: escapeLike(v), mode: "insensitive" as const });
