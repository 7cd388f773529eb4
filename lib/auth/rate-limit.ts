/**
 * Sign-in throttle: an in-process sliding window of failed attempts.
 *
 * In-process on purpose: it needs no table and no round trip, and Tollgate
 * runs as one Next.js process. With several app instances each one keeps its
 * own window, so the effective limit is multiplied by the instance count
 * (documented in docs/SECURITY.md).
 */
export class FailureWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private recent(key: string, now: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.hits.set(key, list);
    else this.hits.delete(key);
    return list;
  }

  /** Milliseconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string, now = Date.now()): number {
    const list = this.recent(key, now);
    if (list.length < this.limit) return 0;
    return this.windowMs - (now - list[list.length - this.limit]);
  }

  fail(key: string, now = Date.now()): void {
    const list = this.recent(key, now);
    list.push(now);
    this.hits.set(key, list);
    if (this.hits.size > 50_000) this.sweep(now);
  }

  clear(key: string): void {
    this.hits.delete(key);
  }

  private sweep(now: number): void {
    for (const key of [...this.hits.keys()]) this.recent(key, now);
  }
}

const g = globalThis as unknown as { __tollgateSignInLimits?: { ipEmail: FailureWindow; email: FailureWindow } };

/**
 * 5 failures per minute per (client IP, email); 20 per minute per email from
 * any IP, because X-Forwarded-For can be forged to look like many clients.
 */
export function signInLimits() {
  g.__tollgateSignInLimits ??= { ipEmail: new FailureWindow(5, 60_000), email: new FailureWindow(20, 60_000) };
  return g.__tollgateSignInLimits;
}
