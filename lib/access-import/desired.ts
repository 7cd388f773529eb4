// What an import source says should exist, in Tollgate's terms, before it is
// compared with the database. Objects are named by stable external keys (never
// by a plaintext key: credentials are keyed by their SHA-256).

export type Level = "read" | "write" | "admin";

export interface KeyLocation {
  names: string[];
  header: boolean;
  query: boolean;
}

export interface DesiredPrincipal {
  ext: string;
  displayName: string;
  kind: "service_account" | "user" | "api_key";
  tags: string[];
}
export interface DesiredCredential {
  ext: string;
  principalExt: string;
  /** Lower-case hex SHA-256 of the key. */
  hash: string;
  /** Display prefix: never part of the secret. */
  prefix: string;
  expiresAt: string | null;
}
export interface DesiredApi {
  ext: string;
  name: string;
  baseUrl: string;
  proxyPrefix: string | null;
  keyLocation: KeyLocation | null;
  description: string | null;
}
export interface DesiredScope {
  ext: string;
  apiExt: string;
  name: string;
  level: Level;
  description: string | null;
}
export interface DesiredEndpoint {
  ext: string;
  apiExt: string;
  method: string;
  pathTemplate: string;
  public: boolean;
  summary: string | null;
  /** Alternatives: any one of these scopes lets a request through. Empty and not public = nobody. */
  scopeExts: string[];
}
export interface DesiredGrant {
  ext: string;
  principalExt: string;
  scopeExt: string;
  expiresAt: string | null;
}

export interface Note {
  /** JSON pointer (or file:line) of what the note is about. */
  where: string;
  message: string;
}

export interface DesiredState {
  principals: DesiredPrincipal[];
  credentials: DesiredCredential[];
  apis: DesiredApi[];
  scopes: DesiredScope[];
  endpoints: DesiredEndpoint[];
  grants: DesiredGrant[];
  /** Plugins and routes Tollgate does not model, by name and route. */
  notImported: Note[];
  warnings: Note[];
}

export const KINDS = ["principal", "credential", "api", "scope", "endpoint", "grant"] as const;
export type Kind = (typeof KINDS)[number];
