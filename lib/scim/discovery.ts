import { ENTERPRISE_STORED, USER_STORED, type AttributeDef } from "./attributes";
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, MAX_PAGE, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SPC_SCHEMA, USER_SCHEMA } from "./constants";
import { scimNotFound } from "./errors";

// What this server supports, for clients that read it before provisioning (RFC 7644 §4).
export function serviceProviderConfig(base: string) {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: "https://github.com/tollgate/tollgate/blob/main/docs/SCIM.md",
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      { type: "oauthbearertoken", name: "Service token", description: "Authorization: Bearer tgs_… (a Tollgate service token with the scim scope)", primary: true },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

const resourceTypes = (base: string) => [
  {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "A person: a Tollgate principal of kind user",
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/User` },
  },
  {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "A team; its members are the principals in it",
    schema: GROUP_SCHEMA,
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/Group` },
  },
];

const attr = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
  ...extra,
});

/** The attributes we store (attributes.ts) are the ones we declare: anything else a client sends is ignored. */
const declared = (d: AttributeDef): ReturnType<typeof attr> =>
  attr(d.name, d.type, { multiValued: !!d.multiValued, ...(d.subAttributes ? { subAttributes: d.subAttributes.map(declared) } : {}) });

const schemas = (base: string) => [
  {
    schemas: [SCHEMA_SCHEMA],
    id: USER_SCHEMA,
    name: "User",
    description: "User account",
    attributes: [
      attr("userName", "string", { required: true, uniqueness: "server" }),
      attr("externalId", "string", { caseExact: true }),
      attr("displayName", "string"),
      attr("active", "boolean"),
      ...USER_STORED.map(declared),
      attr("groups", "complex", { multiValued: true, mutability: "readOnly", subAttributes: [attr("value", "string"), attr("display", "string")] }),
    ],
    meta: { resourceType: "Schema", location: `${base}/Schemas/${USER_SCHEMA}` },
  },
  {
    schemas: [SCHEMA_SCHEMA],
    id: ENTERPRISE_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise user: manager and department",
    attributes: [
      ...ENTERPRISE_STORED.map(declared),
    ],
    meta: { resourceType: "Schema", location: `${base}/Schemas/${ENTERPRISE_SCHEMA}` },
  },
  {
    schemas: [SCHEMA_SCHEMA],
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group (a Tollgate team)",
    attributes: [
      attr("displayName", "string", { required: true, uniqueness: "server" }),
      attr("externalId", "string", { caseExact: true }),
      attr("members", "complex", { multiValued: true, subAttributes: [attr("value", "string", { mutability: "immutable" }), attr("display", "string", { mutability: "readOnly" })] }),
    ],
    meta: { resourceType: "Schema", location: `${base}/Schemas/${GROUP_SCHEMA}` },
  },
];

const list = <T>(items: T[]) => ({ schemas: [LIST_SCHEMA], totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items });

export function discoveryResource(base: string, kind: "ResourceTypes" | "Schemas", id?: string) {
  const items: { id: string }[] = kind === "ResourceTypes" ? resourceTypes(base) : schemas(base);
  if (!id) return list(items);
  const one = items.find((i) => i.id === id);
  if (!one) throw scimNotFound(`${kind === "ResourceTypes" ? "Resource type" : "Schema"} ${id}`);
  return one;
}
