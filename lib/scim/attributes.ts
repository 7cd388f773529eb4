import { ENTERPRISE_SCHEMA } from "./constants";

/**
 * The User attributes Tollgate keeps, as RFC 7643 defines them (§4.1 core User,
 * §4.3 enterprise extension). What a client sends beyond them — an attribute
 * of no declared schema, an undeclared extension URN, an unknown sub-attribute —
 * is ignored, never stored: RFC 7644 lets a service provider ignore what it does
 * not support, and storing it would turn the identity store into a place where
 * any provisioning client can park arbitrary data that every GET echoes back.
 * `password` and the read-only `groups` are never stored either.
 */
export interface AttributeDef {
  name: string;
  type: "string" | "boolean" | "complex" | "reference" | "binary";
  multiValued?: boolean;
  subAttributes?: AttributeDef[];
}

const s = (name: string): AttributeDef => ({ name, type: "string" });
const b = (name: string): AttributeDef => ({ name, type: "boolean" });
const multi = (name: string, subs: string[], extra: AttributeDef[] = []): AttributeDef => ({
  name,
  type: "complex",
  multiValued: true,
  subAttributes: [...subs.map(s), b("primary"), ...extra],
});
const MULTI_SUBS = ["value", "display", "type"];

/** Core User attributes stored as sent (besides the ones mapped to columns: userName, externalId, displayName, active). */
export const USER_STORED: AttributeDef[] = [
  { name: "name", type: "complex", subAttributes: ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"].map(s) },
  s("nickName"),
  s("profileUrl"),
  s("title"),
  s("userType"),
  s("preferredLanguage"),
  s("locale"),
  s("timezone"),
  multi("emails", MULTI_SUBS),
  multi("phoneNumbers", MULTI_SUBS),
  multi("ims", MULTI_SUBS),
  multi("photos", MULTI_SUBS),
  multi("addresses", ["formatted", "streetAddress", "locality", "region", "postalCode", "country", "type"]),
  multi("entitlements", MULTI_SUBS),
  multi("roles", MULTI_SUBS),
  multi("x509Certificates", MULTI_SUBS),
];

export const ENTERPRISE_STORED: AttributeDef[] = [
  s("employeeNumber"),
  s("costCenter"),
  s("organization"),
  s("division"),
  s("department"),
  { name: "manager", type: "complex", subAttributes: [s("value"), s("$ref"), s("displayName")] },
];

type Json = Record<string, unknown>;

/** Attribute names are case-insensitive (RFC 7643 §2.1): the stored key is the schema's spelling. */
function keep(value: unknown, defs: AttributeDef[]): Json {
  const out: Json = {};
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  const byName = new Map(defs.map((d) => [d.name.toLowerCase(), d]));
  for (const [key, v] of Object.entries(value as Json)) {
    const def = byName.get(key.toLowerCase());
    if (!def || v === undefined) continue;
    out[def.name] = def.subAttributes ? keepComplex(v, def) : v;
  }
  return out;
}

function keepComplex(v: unknown, def: AttributeDef): unknown {
  if (v === null) return null;
  if (def.multiValued) return Array.isArray(v) ? v.map((item) => keep(item, def.subAttributes!)) : v;
  return keep(v, def.subAttributes!);
}

/** What of a User body is stored in `scimAttributes`: declared attributes only, the enterprise extension under its URN. */
export function storedUserAttributes(input: Json): Json {
  const out = keep(input, USER_STORED);
  const entKey = Object.keys(input).find((k) => k.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase());
  if (entKey) {
    const ent = keep(input[entKey], ENTERPRISE_STORED);
    if (Object.keys(ent).length) out[ENTERPRISE_SCHEMA] = ent;
  }
  return out;
}
