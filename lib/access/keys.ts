import { createHash, randomBytes } from "node:crypto";

/**
 * The API key format Tollgate issues (docs/SECURITY.md, "API key format"):
 *
 *   tg_<tier>_<secret>_<checksum>
 *
 * - tier: prod | stg | dev — the environment tier the key is for, readable at a glance;
 * - secret: 32 random bytes (256 bits) in base62, always 43 characters;
 * - checksum: CRC-32 of "tg_<tier>_<secret>" in base62, always 6 characters, so a
 *   scanner (or the dashboard) tells a real key from a typo without a lookup.
 * The whole key matches KEY_PATTERN. Only SHA-256(key) and the display prefix
 * (tier + first 6 secret characters) are stored; the key itself is shown once.
 */
export const KEY_TIERS = { production: "prod", staging: "stg", development: "dev" } as const;
export type KeyTier = (typeof KEY_TIERS)[keyof typeof KEY_TIERS];
export const KEY_PATTERN = /^tg_(prod|stg|dev)_([0-9A-Za-z]{43})_([0-9A-Za-z]{6})$/;

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Fixed-width base62 of a non-negative big integer (left-padded with '0'). */
export function base62(n: bigint, width: number): string {
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  if (out.length > width) throw new Error("value does not fit the width");
  return out.padStart(width, "0");
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(s, "utf8")) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const checksum = (body: string) => base62(BigInt(crc32(body)), 6);

export interface NewKey {
  /** The key itself: returned to the caller once, never stored or logged. */
  key: string;
  hash: string;
  prefix: string;
}

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

export function generateKey(tier: KeyTier): NewKey {
  const secret = base62(BigInt("0x" + randomBytes(32).toString("hex")), 43);
  const body = `tg_${tier}_${secret}`;
  const key = `${body}_${checksum(body)}`;
  return { key, hash: hashKey(key), prefix: displayPrefix(tier, secret) };
}

export const displayPrefix = (tier: string, secret: string) => `tg_${tier}_${secret.slice(0, 6)}`;

/** Whether a string is a well-formed Tollgate key with a valid checksum. */
export function isTollgateKey(s: string): boolean {
  const m = KEY_PATTERN.exec(s);
  return m !== null && checksum(`tg_${m[1]}_${m[2]}`) === m[3];
}

export const tierOf = (environmentTier: keyof typeof KEY_TIERS): KeyTier => KEY_TIERS[environmentTier];
