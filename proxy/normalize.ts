// One path normalisation, decided here and applied before any matching. The
// proxy forwards exactly the canonical path it matched, so the upstream can
// never see a different path than the one that was authorised.
//
// Rules (docs/ARCHITECTURE.md, "Path normalisation"):
// - the target must be origin-form ("/…"); absolute-form and "*" are rejected;
// - percent-escapes of unreserved characters are decoded (%41 -> A, %2e -> .),
//   every other escape is kept, upper-cased;
// - rejected outright: encoded "/" or "\" (%2F, %5C), NUL and control bytes raw
//   or encoded, raw "\", ";" (matrix parameters, the "..;/" bypass), "#",
//   malformed escapes, escapes that are not valid UTF-8 (overlongs such as
//   %C0%AE), any character outside RFC 3986 pchar;
// - dot segments ("." / "..", also when encoded) and empty segments ("//") are
//   rejected rather than resolved; one trailing "/" is dropped.
// Matching is case-sensitive, like HTTP paths.

export type Normalized = { ok: true; path: string; query: string } | { ok: false; reason: string };

const MAX_TARGET = 8192;

// pchar minus "%" and ";" plus "/": unreserved / sub-delims (no ";") / ":" / "@" / "/"
const ALLOWED = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/") {
  ALLOWED[c.charCodeAt(0)] = 1;
}
const UNRESERVED = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}

function hexVal(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

export function normalizeTarget(target: string): Normalized {
  if (target.length === 0 || target.length > MAX_TARGET) return { ok: false, reason: "bad_target" };
  if (target.charCodeAt(0) !== 47 /* / */) return { ok: false, reason: "bad_target" };
  const q = target.indexOf("?");
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? "" : target.slice(q);
  // The query is forwarded as received but may not smuggle raw control bytes or fragments.
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 35 /* # */) return { ok: false, reason: "bad_query" };
  }

  let out = "";
  let fastPath = true;
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 37 /* % */) {
      fastPath = false;
      break;
    }
    if (c >= 128 || ALLOWED[c] === 0) return { ok: false, reason: "bad_character" };
  }
  if (fastPath) {
    out = rawPath;
  } else {
    for (let i = 0; i < rawPath.length; i++) {
      const c = rawPath.charCodeAt(i);
      if (c === 37) {
        const h = hexVal(rawPath.charCodeAt(i + 1));
        const l = hexVal(rawPath.charCodeAt(i + 2));
        if (h < 0 || l < 0) return { ok: false, reason: "bad_escape" };
        const byte = h * 16 + l;
        if (byte < 0x20 || byte === 0x7f || byte === 0x2f || byte === 0x5c) return { ok: false, reason: "forbidden_escape" };
        if (byte < 128 && UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
        else out += "%" + rawPath[i + 1].toUpperCase() + rawPath[i + 2].toUpperCase();
        i += 2;
        continue;
      }
      if (c >= 128 || ALLOWED[c] === 0) return { ok: false, reason: "bad_character" };
      out += rawPath[i];
    }
  }

  // Escapes must spell valid UTF-8: an overlong form such as %C0%AE ("." in
  // broken decoders) or a lone continuation byte could decode differently
  // upstream than the path we matched.
  if (!fastPath && !validUtf8Escapes(out)) return { ok: false, reason: "bad_utf8" };

  if (out.length > 1 && out.endsWith("/")) out = out.slice(0, -1);
  if (out !== "/") {
    // Segment checks: no empty segments, no dot segments.
    let start = 1;
    while (start <= out.length) {
      let end = out.indexOf("/", start);
      if (end === -1) end = out.length;
      const len = end - start;
      if (len === 0) return { ok: false, reason: "empty_segment" };
      if ((len === 1 && out.charCodeAt(start) === 46) || (len === 2 && out.charCodeAt(start) === 46 && out.charCodeAt(start + 1) === 46)) {
        return { ok: false, reason: "dot_segment" };
      }
      start = end + 1;
    }
  }
  return { ok: true, path: out, query };
}

/**
 * Whether the path part of a target holds a percent-encoded "%", "/", "\\" or
 * "." (%25, %2F, %5C, %2E in either case). normalizeTarget already refuses %2F
 * and %5C and decodes %2E; the data plane refuses all four when
 * PROXY_REFUSE_ENCODED_SPECIALS is on, so no double-decoding upstream can turn
 * an authorised path into another one (%252e%252e%252f -> %2e%2e%2f -> ../).
 */
export function hasEncodedSpecial(target: string): boolean {
  const first = target.indexOf("%");
  if (first === -1) return false; // the common case: one scan, no escapes at all
  const q = target.indexOf("?");
  const end = q === -1 ? target.length : q;
  for (let i = first; i !== -1 && i < end; i = target.indexOf("%", i + 1)) {
    const h = target.charCodeAt(i + 1);
    const l = target.charCodeAt(i + 2) | 0x20; // lower-case a hex letter
    if ((h === 50 /* 2 */ && (l === 53 /* 5 */ || l === 102 /* f */ || l === 101 /* e */)) || (h === 53 /* 5 */ && l === 99 /* c */)) return true;
  }
  return false;
}

function validUtf8Escapes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Splits a canonical path ("/a/b") into segments (["a","b"]); "/" gives [].
 * An indexOf loop: String.prototype.split is a runtime call that costs several
 * times more on the short paths of every request.
 */
export function segmentsOf(path: string): string[] {
  const out: string[] = [];
  if (path === "/") return out;
  let start = 1;
  for (let end = path.indexOf("/", start); end !== -1; end = path.indexOf("/", start)) {
    out.push(path.slice(start, end));
    start = end + 1;
  }
  out.push(path.slice(start));
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^\d+$/;
const HEXID = /^[0-9a-f]{16,}$/i;
// Opaque ids: long tokens mixing letters and digits (e.g. "ord_8f3kq2m9x1").
const OPAQUE = /^(?=.*\d)[A-Za-z0-9_-]{12,}$/;

/** The shadow-endpoint form of a path: id-like segments folded to {param}, length bounded. */
export function shadowPath(segments: string[]): string {
  const out: string[] = [];
  for (const s of segments.slice(0, 32)) {
    out.push(NUMBER.test(s) || UUID.test(s) || HEXID.test(s) || OPAQUE.test(s) ? "{param}" : s.slice(0, 64));
  }
  return ("/" + out.join("/")).slice(0, 512);
}
