// Compact storage for the largest part of the enforcement state: grants (a
// million in the benchmark). Instead of one JS object, one id string and two
// Map entries per grant, a grant is a slot in a few typed arrays, found through
// open-addressing indexes that hold only slot numbers. That keeps the V8 heap
// small and nearly free of per-grant objects, which is what makes both RSS and
// GC pauses (tail latency of a revoke) grow with the state. See docs/BENCHMARKS.md.

// ---------------------------------------------------------------- uuids as words

/** Words per encoded uuid: 4 of value (128 bits) + 1 recording which hex digits were upper-case. */
export const UUID_WORDS = 5;

const hexVal = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

/**
 * Writes the uuid's 5 words at out[off..]. False when s is not 8-4-4-4-12 hex.
 * The case mask keeps the exact string: "ABC…" and "abc…" stay different ids, as they were as Map keys.
 */
export function encodeUuid(s: string, out: Uint32Array, off: number): boolean {
  if (s.length !== 36) return false;
  let w = 0;
  let mask = 0;
  let n = 0; // hex digits read
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const v = hexVal(c);
    if (v < 0) return false;
    if (c >= 65 && c <= 70) mask |= 1 << n;
    w = (w << 4) | v;
    n++;
    if ((n & 7) === 0) {
      out[off + (n >> 3) - 1] = w >>> 0;
      w = 0;
    }
  }
  out[off + 4] = mask >>> 0;
  return true;
}

const chars = new Uint16Array(36);
const LOWER = "0123456789abcdef";
const UPPER = "0123456789ABCDEF";

export function decodeUuid(words: Uint32Array, off: number): string {
  const mask = words[off + 4];
  let n = 0;
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      chars[i] = 45;
      continue;
    }
    const v = (words[off + (n >> 3)] >>> (28 - 4 * (n & 7))) & 15;
    chars[i] = ((mask >>> n) & 1 ? UPPER : LOWER).charCodeAt(v);
    n++;
  }
  return String.fromCharCode.apply(null, chars as unknown as number[]);
}

// ---------------------------------------------------------------- slot index

const EMPTY = -1;

function hashWords(k: Uint32Array, off: number, w: number): number {
  let h = 0x9e3779b9 | 0;
  for (let i = 0; i < w; i++) {
    h = Math.imul(h ^ k[off + i], 0x85ebca6b);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A hash index from a key of `w` words to a slot number, where slot s's key is
 * keys[s*w .. s*w+w). Linear probing with backward-shift deletion (no tombstones),
 * at most half full. Holds only an Int32Array: 8 bytes or less per entry.
 */
export class SlotIndex {
  private table = new Int32Array(16).fill(EMPTY);
  private mask = 15;
  size = 0;

  constructor(
    private readonly w: number,
    /** The owner's key storage; reassigned by the owner when it grows. */
    public keys: Uint32Array,
  ) {}

  private home(slot: number): number {
    return hashWords(this.keys, slot * this.w, this.w) & this.mask;
  }

  private same(slot: number, q: Uint32Array, qOff: number): boolean {
    const base = slot * this.w;
    for (let i = 0; i < this.w; i++) if (this.keys[base + i] !== q[qOff + i]) return false;
    return true;
  }

  /** The slot whose key equals q[qOff..qOff+w), or -1. */
  find(q: Uint32Array, qOff = 0): number {
    const t = this.table;
    for (let i = hashWords(q, qOff, this.w) & this.mask; ; i = (i + 1) & this.mask) {
      const s = t[i];
      if (s === EMPTY) return -1;
      if (this.same(s, q, qOff)) return s;
    }
  }

  /** Adds a slot whose key is not in the index yet. */
  insert(slot: number): void {
    if ((this.size + 1) * 2 > this.table.length) this.grow();
    this.place(slot);
    this.size++;
  }

  private place(slot: number): void {
    const t = this.table;
    let i = this.home(slot);
    while (t[i] !== EMPTY) i = (i + 1) & this.mask;
    t[i] = slot;
  }

  /** Replaces the entry for `from` with `to` (same key). */
  replace(from: number, to: number): void {
    const t = this.table;
    for (let i = this.home(from); t[i] !== EMPTY; i = (i + 1) & this.mask) {
      if (t[i] === from) {
        t[i] = to;
        return;
      }
    }
  }

  /** Removes this exact slot; a no-op when it is not indexed. */
  remove(slot: number): void {
    const t = this.table;
    const m = this.mask;
    let i = this.home(slot);
    while (t[i] !== slot) {
      if (t[i] === EMPTY) return;
      i = (i + 1) & m;
    }
    // Backward shift: move later entries of the probe run into the hole unless
    // their home lies cyclically in (hole, position].
    for (let j = (i + 1) & m; t[j] !== EMPTY; j = (j + 1) & m) {
      const k = this.home(t[j]);
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (!stays) {
        t[i] = t[j];
        i = j;
      }
    }
    t[i] = EMPTY;
    this.size--;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2).fill(EMPTY);
    this.mask = this.table.length - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.place(old[i]);
  }
}

// ---------------------------------------------------------------- interning

/** Strings ↔ small integers. With refcounts, an index is freed (and reused) when its last holder goes. */
export class Interner {
  private readonly index = new Map<string, number>();
  private readonly strings: (string | undefined)[] = [];
  private refs = new Int32Array(64);
  private readonly free: number[] = [];

  constructor(private readonly counted: boolean) {}

  get size(): number {
    return this.index.size;
  }

  /** The index of s, or -1 when s is not interned. */
  lookup(s: string): number {
    return this.index.get(s) ?? -1;
  }

  string(i: number): string {
    return this.strings[i]!;
  }

  /** Interns s and, when counted, takes one reference. */
  acquire(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.free.pop() ?? this.strings.length;
      this.index.set(s, i);
      this.strings[i] = s;
      if (i >= this.refs.length) {
        const r = new Int32Array(this.refs.length * 2);
        r.set(this.refs);
        this.refs = r;
      }
    }
    if (this.counted) this.refs[i]++;
    return i;
  }

  release(i: number): void {
    if (!this.counted || --this.refs[i] > 0) return;
    this.index.delete(this.strings[i]!);
    this.strings[i] = undefined;
    this.free.push(i);
  }
}

// ---------------------------------------------------------------- grants

export interface GrantRow {
  id: string;
  principal: number;
  scope: number;
  /** Epoch ms; Infinity when the grant never expires. */
  expiresAt: number;
}

const ID_CACHE_CAP = 50_000;

/**
 * Grants in typed arrays. Slots are reused through a free list; a doubly linked
 * list keeps insertion order (so serialising and reloading reproduces which of
 * two grants for the same principal and scope is the indexed one).
 */
export class GrantTable {
  private cap = 1024;
  private ids = new Uint32Array(this.cap * UUID_WORDS);
  private pair = new Uint32Array(this.cap * 2); // principal, scope
  private exp = new Float64Array(this.cap);
  private next = new Int32Array(this.cap);
  private prev = new Int32Array(this.cap);
  private top = 0; // slots [0, top) have been used
  private readonly freeSlots: number[] = [];
  private head = -1;
  private tail = -1;
  private readonly byId = new SlotIndex(UUID_WORDS, this.ids);
  /** (principal, scope) → the grant upserted last for that pair. */
  private readonly byPair = new SlotIndex(2, this.pair);
  private readonly q = new Uint32Array(UUID_WORDS);
  /**
   * Id strings of the grants that traffic used, by slot: every allowed request
   * reports its grant's id to usage, and decoding 36 characters each time costs
   * more than the rest of the grant lookup. Bounded (cleared when full) and kept
   * exact: a slot's entry goes when its grant does.
   */
  private readonly idCache = new Map<number, string>();

  get size(): number {
    return this.byId.size;
  }

  /** The slot of a grant id, or -1 (also for a string that is not a uuid). */
  slotOf(id: string): number {
    return encodeUuid(id, this.q, 0) ? this.byId.find(this.q) : -1;
  }

  /** Hot path: the indexed grant slot for (principal, scope), or -1. */
  slotFor(principal: number, scope: number): number {
    this.q[0] = principal;
    this.q[1] = scope;
    return this.byPair.find(this.q);
  }

  expiresAt(slot: number): number {
    return this.exp[slot];
  }

  idOf(slot: number): string {
    return decodeUuid(this.ids, slot * UUID_WORDS);
  }

  /**
   * idOf for the request path: cached, since the same grants are used again and
   * again. Bulk readers (serialising, admin reads) use idOf, so walking all
   * grants neither fills the cache nor churns it.
   */
  usedIdOf(slot: number): string {
    let id = this.idCache.get(slot);
    if (id === undefined) {
      id = decodeUuid(this.ids, slot * UUID_WORDS);
      if (this.idCache.size >= ID_CACHE_CAP) this.idCache.clear();
      this.idCache.set(slot, id);
    }
    return id;
  }

  principalOf(slot: number): number {
    return this.pair[slot * 2];
  }

  scopeOf(slot: number): number {
    return this.pair[slot * 2 + 1];
  }

  row(slot: number): GrantRow {
    return { id: this.idOf(slot), principal: this.principalOf(slot), scope: this.scopeOf(slot), expiresAt: this.exp[slot] };
  }

  /** Adds a grant whose id is not present (callers remove the old one first). Throws on a non-uuid id. */
  add(id: string, principal: number, scope: number, expiresAt: number): number {
    const slot = this.freeSlots.pop() ?? this.top++;
    if (slot >= this.cap) this.grow();
    if (!encodeUuid(id, this.ids, slot * UUID_WORDS)) {
      this.release(slot);
      throw new Error(`grant id ${JSON.stringify(id)} is not a uuid`);
    }
    this.pair[slot * 2] = principal;
    this.pair[slot * 2 + 1] = scope;
    this.exp[slot] = expiresAt;
    this.next[slot] = -1;
    this.prev[slot] = this.tail;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
    this.byId.insert(slot);
    const held = this.slotFor(principal, scope);
    if (held >= 0) this.byPair.replace(held, slot);
    else this.byPair.insert(slot);
    return slot;
  }

  remove(slot: number): void {
    this.idCache.delete(slot);
    this.byId.remove(slot);
    if (this.slotFor(this.principalOf(slot), this.scopeOf(slot)) === slot) this.byPair.remove(slot);
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.release(slot);
  }

  private release(slot: number): void {
    if (slot === this.top - 1) this.top--;
    else this.freeSlots.push(slot);
  }

  /** Slots in insertion order. */
  *slots(): Generator<number> {
    for (let s = this.head; s >= 0; s = this.next[s]) yield s;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g = <T extends Uint32Array | Int32Array | Float64Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.ids = g(this.ids, cap * UUID_WORDS);
    this.pair = g(this.pair, cap * 2);
    this.exp = g(this.exp, cap);
    this.next = g(this.next, cap);
    this.prev = g(this.prev, cap);
    this.byId.keys = this.ids;
    this.byPair.keys = this.pair;
    this.cap = cap;
  }
}
