import { describe, expect, test } from "vitest";
import { KEY_PATTERN, base62, crc32, generateKey, hashKey, isTollgateKey } from "./keys";

describe("API key format", () => {
  test("tg_<tier>_<43 base62>_<6 checksum>, 256 random bits, hash and prefix match", () => {
    const k = generateKey("prod");
    expect(k.key).toMatch(KEY_PATTERN);
    expect(k.key.startsWith(k.prefix)).toBe(true);
    expect(k.prefix).toMatch(/^tg_prod_[0-9A-Za-z]{6}$/);
    expect(k.hash).toBe(hashKey(k.key));
    expect(k.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(isTollgateKey(k.key)).toBe(true);
    // 43 base62 characters hold 2^256 (62^43 > 2^256).
    expect(62n ** 43n > 2n ** 256n).toBe(true);
  });

  test("keys are distinct and a changed character fails the checksum", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateKey("dev").key));
    expect(keys.size).toBe(1000);
    const k = generateKey("stg").key;
    const i = 12;
    const typo = k.slice(0, i) + (k[i] === "a" ? "b" : "a") + k.slice(i + 1);
    expect(isTollgateKey(typo)).toBe(false);
    expect(isTollgateKey(k.replace("tg_stg_", "tg_prod_"))).toBe(false);
  });

  test("crc32 and base62 are the standard ones", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
    expect(base62(61n, 2)).toBe("0z");
    expect(() => base62(62n ** 3n, 3)).toThrow();
  });
});
