import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The Ed25519 key that signs audit checkpoints. It never lives in the database:
 * it comes from TOLLGATE_AUDIT_SIGNING_KEY (PEM text) or
 * TOLLGATE_AUDIT_SIGNING_KEY_FILE (a PEM file), and demo mode generates one into
 * the data directory. Someone who can rewrite the database but cannot read this
 * key cannot forge a checkpoint over a rewritten chain.
 */
export interface AuditSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  publicKeyPem: string;
}

/** A short, stable name for a public key: "ed25519:" + the first 16 hex of SHA-256 over its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return `ed25519:${createHash("sha256").update(der).digest("hex").slice(0, 16)}`;
}

export function signerFromPem(pem: string): AuditSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new Error(`the audit signing key is not a PEM private key (${(e as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new Error(`the audit signing key must be Ed25519, got ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

export function publicKeyFromPem(pem: string): KeyObject {
  // A private key PEM is accepted too: its public half is derived.
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`the audit public key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

/** Generates an Ed25519 key as PKCS#8 PEM (mode 0600) unless the file exists; returns the signer. */
export function ensureSigningKeyFile(file: string): AuditSigner {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  return signerFromPem(readFileSync(file, "utf8"));
}

/**
 * The configured signer, or null when none is configured (checkpoints are then
 * off, and verification says so). A configured but unreadable key is an error:
 * silently running without checkpoints would fail open.
 */
export function signerFromEnv(source: Record<string, string | undefined> = process.env): AuditSigner | null {
  const inline = source.TOLLGATE_AUDIT_SIGNING_KEY?.trim();
  if (inline) return signerFromPem(inline.replace(/\\n/g, "\n"));
  const file = source.TOLLGATE_AUDIT_SIGNING_KEY_FILE?.trim();
  if (file) {
    let pem: string;
    try {
      pem = readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`TOLLGATE_AUDIT_SIGNING_KEY_FILE: cannot read ${file} (${(e as Error).message})`);
    }
    return signerFromPem(pem);
  }
  return null;
}

const g = globalThis as unknown as { __tollgateAuditSigner?: AuditSigner | null };

/** The process's signer, read once. */
export function auditSigner(): AuditSigner | null {
  if (g.__tollgateAuditSigner === undefined) g.__tollgateAuditSigner = signerFromEnv();
  return g.__tollgateAuditSigner;
}

/**
 * The public keys verification trusts: TOLLGATE_AUDIT_PUBLIC_KEY(_FILE) when an
 * auditor pins one, else the configured signer's own public key.
 */
export function trustedKeysFromEnv(source: Record<string, string | undefined> = process.env): KeyObject[] {
  const inline = source.TOLLGATE_AUDIT_PUBLIC_KEY?.trim();
  if (inline) return [publicKeyFromPem(inline.replace(/\\n/g, "\n"))];
  const file = source.TOLLGATE_AUDIT_PUBLIC_KEY_FILE?.trim();
  if (file) return [publicKeyFromPem(readFileSync(file, "utf8"))];
  const signer = source === process.env ? auditSigner() : signerFromEnv(source);
  return signer ? [signer.publicKey] : [];
}
