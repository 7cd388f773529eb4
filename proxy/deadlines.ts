// Upstream timeouts for the data plane (headers, then the gaps between body
// chunks), checked by one periodic sweep over the exchanges waiting on an
// upstream instead of a timer per request.
//
// Why not undici's headersTimeout/bodyTimeout: they allocate a timer object on
// every request that stays in undici's timer list until its next half-second
// tick, long enough to be promoted to V8's old generation. Under load that was
// ~100 bytes of old-space garbage per request (the heap grew 2.8 MB/s at
// 25,000 req/s, measured with --trace-gc), which pushed the proxy's RSS past
// 400 MB before V8's next full collection. Here a request costs linking into
// and out of a list, and a body chunk one number store.
//
// The list is intrusive (the exchanges link to each other) rather than a Set:
// a long-lived Set's backing table lives in the old generation and is
// reallocated there as entries come and go, and the discarded tables still
// point at the young exchanges they held until the next full collection, so
// every scavenge kept those exchanges — and their requests, responses and
// buffers — alive and promoted them (measured: ~75 MB/s of promotion and 20%
// fewer requests per second at 25,000 req/s). An unlinked exchange is pointed
// at by nothing.

export interface Watched {
  prevWatched: Watched | null;
  nextWatched: Watched | null;
  watched: boolean;
  /** When the exchange last made progress (request sent, headers, a body chunk), ms on the sweep's clock. */
  since: number;
  /** True once the upstream's response headers arrived: from then on the body timeout applies. */
  headersReceived: boolean;
  /** Called once when a timeout passes; the exchange is no longer watched. */
  expire(code: "UND_ERR_HEADERS_TIMEOUT" | "UND_ERR_BODY_TIMEOUT"): void;
}

export class UpstreamDeadlines {
  private head: Watched | null = null;
  private count = 0;
  private readonly timer: NodeJS.Timeout;
  /** The sweep's clock: fresh at each sweep, so progress is recorded without reading the time per chunk. */
  clock = performance.now();

  constructor(
    private readonly headersMs: number,
    private readonly bodyMs: number,
  ) {
    // A quarter of the shorter timeout, between 10 ms and 250 ms: a timeout fires at most that late.
    const every = Math.max(10, Math.min(250, Math.floor(Math.min(headersMs, bodyMs) / 4)));
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  /**
   * Starts watching once the request is handed to an upstream connection. As in
   * undici, the headers timeout runs only once the request body has been sent:
   * while a body is still streaming up, call it with `uploading` and start the
   * clock with `resume` when the body ends.
   */
  watch(w: Watched, uploading = false): void {
    w.since = uploading ? Infinity : performance.now();
    if (w.watched) return;
    w.watched = true;
    w.prevWatched = null;
    w.nextWatched = this.head;
    if (this.head) this.head.prevWatched = w;
    this.head = w;
    this.count++;
  }

  /** Stops the clock while the client cannot take more (backpressure): a slow client is not a slow upstream. */
  hold(w: Watched): void {
    w.since = Infinity;
  }

  resume(w: Watched): void {
    w.since = performance.now();
  }

  /** Progress: the next deadline counts from now (to within one sweep). */
  touch(w: Watched): void {
    w.since = this.clock;
  }

  done(w: Watched): void {
    if (!w.watched) return;
    w.watched = false;
    if (w.prevWatched) w.prevWatched.nextWatched = w.nextWatched;
    else this.head = w.nextWatched;
    if (w.nextWatched) w.nextWatched.prevWatched = w.prevWatched;
    w.prevWatched = w.nextWatched = null;
    this.count--;
  }

  get size(): number {
    return this.count;
  }

  sweep(now = performance.now()): void {
    this.clock = now;
    for (let w = this.head; w !== null; ) {
      const next = w.nextWatched;
      const headers = !w.headersReceived;
      if (now - w.since >= (headers ? this.headersMs : this.bodyMs)) {
        this.done(w);
        w.expire(headers ? "UND_ERR_HEADERS_TIMEOUT" : "UND_ERR_BODY_TIMEOUT");
      }
      w = next;
    }
  }

  close(): void {
    clearInterval(this.timer);
    while (this.head) this.done(this.head);
  }
}
