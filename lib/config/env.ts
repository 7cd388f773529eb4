import { z } from "zod";
import { cronSetting } from "./cron";

/** Limits on one OpenAPI import (read lazily by lib/discovery/config.ts; validated here with the rest at start-up). */
export const openApiLimitSchemas = {
  TOLLGATE_OPENAPI_MAX_BYTES: z.coerce.number().int().min(1024).max(200 * 1024 * 1024).optional(),
  /** Nodes once YAML aliases are expanded: what one import may cost in memory, whatever its byte size. */
  TOLLGATE_OPENAPI_MAX_NODES: z.coerce.number().int().min(1000).max(50_000_000).optional(),
  /** Seconds one import may spend parsing, validating and reading the document. */
  TOLLGATE_OPENAPI_MAX_SECONDS: z.coerce.number().positive().max(3600).optional(),
};

// The environment is parsed once, at first use, and a bad value stops the
// process with a message naming the variable (never a stack trace deep inside).
const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Demo mode enables local password sign-in with the seeded demo users. Set by `npm start` on the embedded database. */
  TOLLGATE_DEMO: z.enum(["0", "1"]).default("0"),
  NEXTAUTH_URL: z.string().url().optional(),
  NEXTAUTH_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Space-separated scopes requested from the OIDC provider (Okta needs "groups" here; Entra and Keycloak do not). */
  OIDC_SCOPES: z.string().min(1).default("openid email profile"),
  OIDC_GROUPS_CLAIM: z.string().min(1).default("groups"),
  /** JSON object: group name -> list of Tollgate roles, e.g. {"tollgate-admins":["admin"]} */
  OIDC_ROLE_MAP: z.string().optional(),
  /** Email for notifications (reminders, escalations): smtp:// or smtps://user:pass@host:port. Unset = in-app only. */
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\/[^/]+/.test(v), "must be an smtp:// or smtps:// URL")
    .optional(),
  /** The From address of notification emails; required with SMTP_URL. */
  SMTP_FROM: z.email("must be an email address").optional(),
  /** pg-boss schedules (UTC cron). Checked here so a typo stops start-up, not one job silently. */
  TOLLGATE_ANALYSIS_CRON: cronSetting("17 * * * *"),
  TOLLGATE_RECONCILE_CRON: cronSetting("* * * * *"),
  TOLLGATE_CAMPAIGN_CRON: cronSetting("*/15 * * * *"),
  ...openApiLimitSchemas,
}).refine((v) => !v.SMTP_URL || v.SMTP_FROM, { path: ["SMTP_FROM"], message: "is required when SMTP_URL is set" });

export type Env = z.infer<typeof schema>;

let cached: Env | undefined;

export function formatEnvError(error: z.ZodError): string {
  return error.issues
    .map((i) => `  ${i.path.join(".") || "(environment)"}: ${i.message}`)
    .join("\n");
}

/** Parses a given environment (tests; env() parses process.env once). */
export function parseEnv(source: Record<string, string | undefined>) {
  return schema.safeParse(source);
}

export function env(): Env {
  if (cached) return cached;
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`Invalid configuration:\n${formatEnvError(parsed.error)}`);
  }
  cached = parsed.data;
  return cached;
}

/** Discrete pg connection fields from a postgres URL (see lib/db/migrate-adapter.ts for why discrete). */
export function pgConfigFromUrl(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  };
}
