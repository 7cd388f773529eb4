import crypto from "node:crypto";
import { isUtf8 } from "node:buffer";
import { canonicalValue } from "./canonical";

/**
 * eventHash over an event read as raw bytes (verification of a large log, see
 * chain-read.ts): the hashed text — prevHash, then the canonical JSON of
 * {action, actor, at, data, id, target} — is assembled byte by byte in one
 * reused buffer and hashed from there, with no string per field, no
 * JSON.parse of `data` and no objects. That was most of the CPU of verifying a
 * million events (decoding, JSON.parse, re-serialising, garbage collection).
 *
 * The fast path handles exactly what it can prove equal to the reference
 * (canonicalValue(JSON.parse(text)) and JSON.stringify per field); anything
 * else — a key with an escape or a non-ASCII byte, a duplicate key, text that
 * is not JSON — falls back to the reference for that value, so the result is
 * always eventHash's. Tested against it (canonical-bytes.test.ts), also on
 * jsonb as Postgres hands it back.
 */
export class ByteSink {
  buf = Buffer.allocUnsafe(1 << 16);
  n = 0;

  ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + extra + 1024));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  byte(b: number): void {
    if (this.n >= this.buf.length) this.ensure(1);
    this.buf[this.n++] = b;
  }

  /** s holds only ASCII (literals, numbers, dates). A loop: cheaper than Buffer.write for a few bytes. */
  ascii(s: string): void {
    this.ensure(s.length);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < s.length; i++) b[n++] = s.charCodeAt(i);
    this.n = n;
  }

  text(s: string): void {
    this.ensure(Buffer.byteLength(s, "utf8"));
    this.n += this.buf.write(s, this.n, "utf8");
  }

  copy(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    if (end - start > 256) {
      this.buf.set(src.subarray(start, end), this.n);
      this.n += end - start;
      return;
    }
    // Most fields are tens of bytes: a loop costs less than Buffer.copy's argument checks.
    const b = this.buf;
    let n = this.n;
    for (let i = start; i < end; i++) b[n++] = src[i];
    this.n = n;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * JSON.stringify(s) for s = the UTF-8 text src[start, end), written as bytes. A
 * string without quote, backslash or control characters is itself, quoted (valid
 * UTF-8 has no lone surrogates, the only other thing JSON.stringify escapes).
 */
export function quoteInto(o: ByteSink, src: Buffer, start: number, end: number): void {
  o.ensure(end - start + 2);
  const b = o.buf;
  let n = o.n;
  let high = false;
  b[n++] = QUOTE;
  for (let i = start; i < end; i++) {
    const c = src[i];
    if (c < 0x20 || c === QUOTE || c === BACKSLASH) return o.text(JSON.stringify(src.toString("utf8", start, end)));
    if (c >= 0x80) high = true;
    b[n++] = c;
  }
  if (high && !isUtf8(src.subarray(start, end))) return o.text(JSON.stringify(src.toString("utf8", start, end)));
  b[n++] = QUOTE;
  o.n = n;
}

/** canonicalValue(JSON.parse(text)) for the JSON text src[start, end), written as bytes. Throws as JSON.parse does on bad JSON. */
export function canonicalJsonInto(o: ByteSink, src: Buffer, start: number, end: number): void {
  const mark = o.n;
  o.ensure(end - start + 16);
  const i = value(o, src, skipWs(src, start, end), end);
  if (i >= 0 && skipWs(src, i, end) === end) return;
  o.n = mark;
  o.text(canonicalValue(JSON.parse(src.toString("utf8", start, end))));
}

function skipWs(s: Buffer, i: number, end: number): number {
  while (i < end) {
    const b = s[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
    i++;
  }
  return i;
}

// Each returns the index after the value, or -1: "not for the fast path", and the caller falls back.
function value(o: ByteSink, s: Buffer, i: number, end: number): number {
  if (i >= end) return -1;
  const c = s[i];
  if (c === 0x7b) return object(o, s, i, end);
  if (c === 0x5b) return array(o, s, i, end);
  if (c === QUOTE) return string(o, s, i, end);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(o, s, i, end);
  if (c === 0x74) return literal(o, s, i, end, TRUE);
  if (c === 0x66) return literal(o, s, i, end, FALSE);
  if (c === 0x6e) return literal(o, s, i, end, NULL);
  return -1;
}

const TRUE = Uint8Array.from(Buffer.from("true"));
const FALSE = Uint8Array.from(Buffer.from("false"));
const NULL = Uint8Array.from(Buffer.from("null"));

function literal(o: ByteSink, s: Buffer, i: number, end: number, word: Uint8Array): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (s[i + k] !== word[k]) return -1;
  o.copy(word, 0, word.length);
  return i + word.length;
}

/** Index of the closing quote of the string opening at i, or -1; flags: 1 = has an escape, 2 = has a non-ASCII byte. */
let stringFlags = 0;
function stringEnd(s: Buffer, i: number, end: number): number {
  stringFlags = 0;
  for (let j = i + 1; j < end; j++) {
    const b = s[j];
    if (b === QUOTE) return j;
    if (b === BACKSLASH) {
      stringFlags |= 1;
      j++;
    } else if (b < 0x20) return -1;
    else if (b >= 0x80) stringFlags |= 2;
  }
  return -1;
}

function string(o: ByteSink, s: Buffer, i: number, end: number): number {
  const j = stringEnd(s, i, end);
  if (j < 0) return -1;
  if (stringFlags === 0 || (stringFlags === 2 && isUtf8(s.subarray(i + 1, j)))) {
    o.copy(s, i, j + 1);
  } else {
    // Escapes (or invalid UTF-8): what the reference does to this one string. JSON.stringify never writes more bytes than the literal it parsed.
    let parsed: unknown;
    try {
      parsed = JSON.parse(s.toString("utf8", i, j + 1));
    } catch {
      return -1;
    }
    o.text(JSON.stringify(parsed));
  }
  return j + 1;
}

function number(o: ByteSink, s: Buffer, i: number, end: number): number {
  let j = i;
  const negative = s[j] === 0x2d;
  if (negative) j++;
  const intStart = j;
  if (s[j] === 0x30) j++;
  else if (s[j] >= 0x31 && s[j] <= 0x39) while (j < end && s[j] >= 0x30 && s[j] <= 0x39) j++;
  else return -1;
  const intDigits = j - intStart;
  let plain = true;
  if (j < end && s[j] === 0x2e) {
    plain = false;
    const d = ++j;
    while (j < end && s[j] >= 0x30 && s[j] <= 0x39) j++;
    if (j === d) return -1;
  }
  if (j < end && (s[j] === 0x65 || s[j] === 0x45)) {
    plain = false;
    j++;
    if (j < end && (s[j] === 0x2b || s[j] === 0x2d)) j++;
    const d = j;
    while (j < end && s[j] >= 0x30 && s[j] <= 0x39) j++;
    if (j === d) return -1;
  }
  // A plain integer of at most 15 digits is exact as a double and JSON.stringify writes it back unchanged; "-0" is "0".
  if (plain && intDigits <= 15 && !(negative && s[intStart] === 0x30)) {
    o.copy(s, i, j);
  } else {
    const n = Number(s.toString("latin1", i, j));
    o.ascii(Number.isFinite(n) ? JSON.stringify(n) : "null");
  }
  return j;
}

function array(o: ByteSink, s: Buffer, i: number, end: number): number {
  o.byte(0x5b);
  i = skipWs(s, i + 1, end);
  if (s[i] === 0x5d) {
    o.byte(0x5d);
    return i + 1;
  }
  for (;;) {
    i = value(o, s, i, end);
    if (i < 0) return -1;
    i = skipWs(s, i, end);
    if (s[i] === 0x2c) {
      o.byte(0x2c);
      i = skipWs(s, i + 1, end);
    } else if (s[i] === 0x5d) {
      o.byte(0x5d);
      return i + 1;
    } else return -1;
  }
}

// Members are written in the order they come, then put in key order if they were not in it already
// (Postgres hands jsonb keys back shortest first, so often they are not). Keys are ASCII here, where byte
// order is the UTF-16 order Array.prototype.sort uses; array-index keys go first (canonicalKeyOrder).
let scratch = Buffer.allocUnsafe(1 << 12);

function object(o: ByteSink, s: Buffer, i: number, end: number): number {
  o.byte(0x7b);
  i = skipWs(s, i + 1, end);
  if (s[i] === 0x7d) {
    o.byte(0x7d);
    return i + 1;
  }
  const base = o.n;
  // Per member: key start, key end (in s, without quotes), output start, output end.
  const m: number[] = [];
  const W = 4;
  let sorted = true;
  for (;;) {
    if (s[i] !== QUOTE) return -1;
    const k = stringEnd(s, i, end);
    // A key with an escape or beyond ASCII could sort differently as UTF-16 than as bytes: the reference does those.
    if (k < 0 || stringFlags !== 0) return -1;
    const keyStart = i + 1;
    const at = o.n;
    o.copy(s, i, k + 1);
    i = skipWs(s, k + 1, end);
    if (s[i] !== 0x3a) return -1;
    o.byte(0x3a);
    i = value(o, s, skipWs(s, i + 1, end), end);
    if (i < 0) return -1;
    if (m.length) {
      const c = compareKeys(s, m[m.length - W], m[m.length - W + 1], keyStart, k);
      if (c === 0) return -1; // a duplicate key: JSON.parse keeps the last, the reference handles it
      if (c > 0) sorted = false;
    }
    m.push(keyStart, k, at, o.n);
    i = skipWs(s, i, end);
    if (s[i] === 0x2c) {
      o.byte(0x2c);
      i = skipWs(s, i + 1, end);
    } else if (s[i] === 0x7d) {
      i++;
      break;
    } else return -1;
  }
  if (!sorted) {
    const count = m.length / W;
    const order = Array.from({ length: count }, (_, x) => x);
    order.sort((a, b) => compareKeys(s, m[a * W], m[a * W + 1], m[b * W], m[b * W + 1]));
    for (let x = 1; x < count; x++) if (compareKeys(s, m[order[x - 1] * W], m[order[x - 1] * W + 1], m[order[x] * W], m[order[x] * W + 1]) === 0) return -1;
    const len = o.n - base;
    if (scratch.length < len) scratch = Buffer.allocUnsafe(len * 2);
    o.buf.copy(scratch, 0, base, o.n);
    o.n = base;
    for (let x = 0; x < count; x++) {
      if (x) o.byte(0x2c);
      const y = order[x] * W;
      o.n += scratch.copy(o.buf, o.n, m[y + 2] - base, m[y + 3] - base);
    }
  }
  o.byte(0x7d);
  return i;
}

/** canonicalKeyOrder (canonical.ts) for two ASCII keys in s: array-index keys first, by value, then the rest by bytes. */
function compareKeys(s: Buffer, a0: number, a1: number, b0: number, b1: number): number {
  const ia = isIndexKey(s, a0, a1);
  const ib = isIndexKey(s, b0, b1);
  if (ia !== ib) return ia ? -1 : 1;
  const la = a1 - a0;
  const lb = b1 - b0;
  // Two array indices (no leading zeros): the shorter is the smaller; of equal length, bytes order them.
  if (ia && la !== lb) return la - lb;
  const n = la < lb ? la : lb;
  for (let k = 0; k < n; k++) {
    const d = s[a0 + k] - s[b0 + k];
    if (d !== 0) return d;
  }
  return la - lb;
}

/** "0", or 1-10 digits without a leading zero and below 2^32 - 1: what JSON.stringify writes first. */
function isIndexKey(s: Buffer, a: number, b: number): boolean {
  const len = b - a;
  if (len === 0 || len > 10) return false;
  const first = s[a];
  if (first < 0x30 || first > 0x39) return false;
  if (first === 0x30) return len === 1;
  let v = 0;
  for (let k = a; k < b; k++) {
    const c = s[k];
    if (c < 0x30 || c > 0x39) return false;
    v = v * 10 + (c - 0x30);
  }
  return v < 4294967295;
}

const sha256Hex: (data: Buffer) => string =
  typeof crypto.hash === "function" ? (d) => crypto.hash("sha256", d, "hex") : (d) => crypto.createHash("sha256").update(d).digest("hex");

export function hashSink(o: ByteSink): string {
  return sha256Hex(o.buf.subarray(0, o.n));
}

/** Where one event's fields lie in a buffer (a binary COPY row); target -1 = null. */
export interface EventSpans {
  prevHash: number;
  prevHashEnd: number;
  id: number;
  idEnd: number;
  /** at, as Date's time value (ms since the Unix epoch). */
  atMs: number;
  actor: number;
  actorEnd: number;
  action: number;
  actionEnd: number;
  target: number;
  targetEnd: number;
  data: number;
  dataEnd: number;
}

const sink = new ByteSink();

/** eventHash(prevHash, event) for an event whose fields lie in src (see EventSpans); data is JSON text. */
export function eventHashFromBytes(src: Buffer, e: EventSpans): string {
  const o = sink;
  o.n = 0;
  o.copy(src, e.prevHash, e.prevHashEnd);
  // The keys of canonicalJSON({id, at, actor, action, target, data}) in sorted order.
  o.ascii('{"action":');
  quoteInto(o, src, e.action, e.actionEnd);
  o.ascii(',"actor":');
  quoteInto(o, src, e.actor, e.actorEnd);
  o.ascii(',"at":"');
  isoInto(o, e.atMs);
  o.ascii('","data":');
  canonicalJsonInto(o, src, e.data, e.dataEnd);
  o.ascii(',"id":');
  quoteInto(o, src, e.id, e.idEnd);
  o.ascii(',"target":');
  if (e.target < 0) o.ascii("null");
  else quoteInto(o, src, e.target, e.targetEnd);
  o.byte(0x7d);
  return hashSink(o);
}

const DAY_MS = 86_400_000;
let cachedDay = NaN;
let cachedDayPrefix = "";

/**
 * new Date(ms).toISOString(), written as bytes. Events of one day share the
 * date part, so it is formatted once per day and the time of day by arithmetic.
 */
export function isoInto(o: ByteSink, ms: number): void {
  const t = Math.trunc(ms) + 0; // Date's TimeClip (+ 0 turns -0 into 0)
  if (!(Math.abs(t) <= 8.64e15)) new Date(t).toISOString(); // out of Date's range: throws, as the reference does
  const day = Math.floor(t / DAY_MS);
  if (day !== cachedDay) {
    const iso = new Date(day * DAY_MS).toISOString(); // throws on an invalid time, as the reference does
    if (iso.length !== 24) return o.ascii(new Date(t).toISOString()); // years beyond 0000-9999: the long form
    cachedDay = day;
    cachedDayPrefix = iso.slice(0, 11);
  }
  let rest = t - day * DAY_MS;
  const msPart = rest % 1000;
  rest = (rest - msPart) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  o.ascii(cachedDayPrefix);
  o.ensure(13);
  const b = o.buf;
  let n = o.n;
  b[n++] = 0x30 + ((hour / 10) | 0);
  b[n++] = 0x30 + (hour % 10);
  b[n++] = 0x3a;
  b[n++] = 0x30 + ((min / 10) | 0);
  b[n++] = 0x30 + (min % 10);
  b[n++] = 0x3a;
  b[n++] = 0x30 + ((sec / 10) | 0);
  b[n++] = 0x30 + (sec % 10);
  b[n++] = 0x2e;
  b[n++] = 0x30 + ((msPart / 100) | 0);
  b[n++] = 0x30 + (((msPart / 10) | 0) % 10);
  b[n++] = 0x30 + (msPart % 10);
  b[n++] = 0x5a;
  o.n = n;
}
