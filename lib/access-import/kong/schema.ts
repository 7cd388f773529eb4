import { z } from "zod";

// The parts of a Kong declarative configuration (decK / kong.yml) the importer
// reads. Objects are loose: Kong and decK carry many more fields (timeouts,
// tags, certificates…), which are not Tollgate's business. Field semantics and
// defaults follow Kong's own schemas (kong/db/schema/entities/*.lua,
// kong/plugins/{key-auth,acl,request-termination}/schema.lua).

export const FORMAT_VERSIONS = ["1.1", "2.1", "3.0"] as const;

const name = z.string().min(1).max(200);
const tags = z.array(z.string().max(200)).max(100).optional();

export const pluginSchema = z.looseObject({
  name: z.string().min(1).max(100),
  enabled: z.boolean().optional(),
  config: z.looseObject({}).nullish(),
  service: z.union([name, z.looseObject({ id: name.optional(), name: name.optional() })]).nullish(),
  route: z.union([name, z.looseObject({ id: name.optional(), name: name.optional() })]).nullish(),
  consumer: z.union([name, z.looseObject({ id: name.optional(), username: name.optional() })]).nullish(),
});
export type KongPlugin = z.infer<typeof pluginSchema>;

const credential = z.looseObject({ id: name.optional(), key: z.string().max(1024).optional(), tags, ttl: z.number().nullish() });
const acl = z.looseObject({ id: name.optional(), group: z.string().min(1).max(200), tags });

export const consumerSchema = z
  .looseObject({
    id: name.optional(),
    username: name.optional(),
    custom_id: name.optional(),
    tags,
    keyauth_credentials: z.array(credential).max(100_000).optional(),
    acls: z.array(acl).max(100_000).optional(),
    plugins: z.array(pluginSchema).max(1000).optional(),
  })
  .refine((c) => c.username !== undefined || c.custom_id !== undefined, "a consumer needs a username or a custom_id");
export type KongConsumer = z.infer<typeof consumerSchema>;

export const routeSchema = z.looseObject({
  id: name.optional(),
  name: name.optional(),
  paths: z.array(z.string().max(1000)).max(1000).nullish(),
  methods: z.array(z.string().regex(/^[A-Za-z]{1,16}$/, "must be an HTTP method")).max(20).nullish(),
  hosts: z.array(z.string().max(300)).max(1000).nullish(),
  headers: z.record(z.string(), z.unknown()).nullish(),
  protocols: z.array(z.string()).max(10).nullish(),
  strip_path: z.boolean().nullish(),
  service: z.union([name, z.looseObject({ id: name.optional(), name: name.optional() })]).nullish(),
  plugins: z.array(pluginSchema).max(1000).optional(),
  tags,
});
export type KongRoute = z.infer<typeof routeSchema>;

export const serviceSchema = z.looseObject({
  id: name.optional(),
  name: name.optional(),
  url: z.string().max(2000).optional(),
  protocol: z.string().max(20).optional(),
  host: z.string().max(300).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  path: z.string().max(1000).nullish(),
  enabled: z.boolean().optional(),
  routes: z.array(routeSchema).max(10_000).optional(),
  plugins: z.array(pluginSchema).max(1000).optional(),
  tags,
});
export type KongService = z.infer<typeof serviceSchema>;

export const kongConfigSchema = z.looseObject({
  _format_version: z.union([z.string(), z.number()]).transform((v, ctx) => {
    const s = typeof v === "number" ? (Number.isInteger(v) ? `${v}.0` : String(v)) : v;
    if (!(FORMAT_VERSIONS as readonly string[]).includes(s)) {
      ctx.addIssue({ code: "custom", message: `unknown _format_version ${JSON.stringify(v)}: expected one of ${FORMAT_VERSIONS.join(", ")}` });
      return z.NEVER;
    }
    return s as (typeof FORMAT_VERSIONS)[number];
  }),
  consumers: z.array(consumerSchema).max(1_000_000).optional(),
  services: z.array(serviceSchema).max(100_000).optional(),
  routes: z.array(routeSchema).max(100_000).optional(),
  plugins: z.array(pluginSchema).max(100_000).optional(),
  keyauth_credentials: z.array(credential.extend({ consumer: z.union([name, z.looseObject({ id: name.optional(), username: name.optional() })]) })).max(1_000_000).optional(),
  acls: z.array(acl.extend({ consumer: z.union([name, z.looseObject({ id: name.optional(), username: name.optional() })]) })).max(1_000_000).optional(),
});
export type KongConfig = z.infer<typeof kongConfigSchema>;

/** Kong's key-auth config with its schema defaults. */
export const keyAuthConfig = z.looseObject({
  key_names: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "key names may only hold letters, digits, _ and -")).min(1).max(16).default(["apikey"]),
  hide_credentials: z.boolean().default(false),
  anonymous: z.string().min(1).nullish(),
  key_in_header: z.boolean().default(true),
  key_in_query: z.boolean().default(true),
  key_in_body: z.boolean().default(false),
  run_on_preflight: z.boolean().default(true),
});

/** Kong's acl config; `whitelist`/`blacklist` are the names before Kong 2.1. Exactly one of allow/deny. */
export const aclConfig = z
  .looseObject({
    allow: z.array(z.string().min(1)).nullish(),
    deny: z.array(z.string().min(1)).nullish(),
    whitelist: z.array(z.string().min(1)).nullish(),
    blacklist: z.array(z.string().min(1)).nullish(),
  })
  .transform((c, ctx) => {
    const allow = c.allow ?? c.whitelist ?? null;
    const deny = c.deny ?? c.blacklist ?? null;
    if ((allow === null) === (deny === null)) {
      ctx.addIssue({ code: "custom", message: "exactly one of config.allow or config.deny is required" });
      return z.NEVER;
    }
    // handler.lua: DENY when conf.deny has a first element, else ALLOW.
    return deny && deny.length > 0 ? { type: "deny" as const, groups: deny } : { type: "allow" as const, groups: allow ?? [] };
  });

export const requestTerminationConfig = z.looseObject({
  status_code: z.number().int().default(503),
  message: z.string().nullish(),
  trigger: z.string().nullish(),
});
