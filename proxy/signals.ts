// Usage signals per credential (issue 22): the endpoints (route ids) and client
// networks it was seen with, and its requests per UTC minute, since the last
// usage report. The dashboard keeps the history (lib/usage/signals.ts) and
// evaluates the anomaly rules as reports arrive; the proxy only keeps one
// report window, so its memory is bounded by the caps below, not by history.
// Per request: one Map lookup by the credential id (an interned string from
// the state), a Set probe, a short array scan and two number writes. Objects
// are allocated only the first time a credential, pair or network is seen in a
// window, and a finished minute appends two numbers.

export interface SignalEntry {
  credentialId: string;
  /** The grant that allowed its latest request (findings are about grants). */
  grantId: string | null;
  /** Route ids (= endpoint ids) called in this window. */
  endpoints: string[];
  /** Client networks (IPv4 /24, IPv6 /48) in this window, at most maxNetworks. */
  networks: string[];
  /** Requests per UTC minute (partial for the current minute; the dashboard adds them up). */
  minutes: { minute: string; count: number }[];
}

export interface SignalLimits {
  /** Credentials tracked per window; others are counted as dropped. */
  maxCredentials: number;
  /** (credential, endpoint) pairs per window over all credentials. */
  maxPairs: number;
  /** Networks per credential per window. */
  maxNetworks: number;
}

class CredentialSignal {
  readonly routes = new Set<string>();
  readonly networks: string[] = [];
  /** Finished minutes, flat: [minuteStartMs, count, ...]. */
  readonly minutes: number[] = [];
  minute = 0;
  count = 0;
  grantId: string | null = null;
  constructor(readonly credentialId: string) {}
}

export class SignalTable {
  private byCredential = new Map<string, CredentialSignal>();
  private pairs = 0;
  dropped = 0;

  constructor(private readonly limits: SignalLimits) {}

  record(credentialId: string, grantId: string | null, routeId: string, network: string | null, now: number): void {
    let s = this.byCredential.get(credentialId);
    if (s === undefined) {
      if (this.byCredential.size >= this.limits.maxCredentials) {
        this.dropped++;
        return;
      }
      s = new CredentialSignal(credentialId);
      this.byCredential.set(credentialId, s);
    }
    const minute = now - (now % 60_000);
    if (minute !== s.minute) {
      if (s.count > 0) s.minutes.push(s.minute, s.count);
      s.minute = minute;
      s.count = 0;
    }
    s.count++;
    if (grantId !== null) s.grantId = grantId;
    if (!s.routes.has(routeId)) {
      if (this.pairs < this.limits.maxPairs) {
        s.routes.add(routeId);
        this.pairs++;
      } else this.dropped++;
    }
    if (network !== null && s.networks.length < this.limits.maxNetworks && !s.networks.includes(network)) s.networks.push(network);
  }

  get size(): number {
    return this.byCredential.size;
  }

  /** Everything since the last take(), as report entries; the table starts empty again. */
  take(): SignalEntry[] {
    const out: SignalEntry[] = [];
    for (const s of this.byCredential.values()) {
      const minutes: SignalEntry["minutes"] = [];
      for (let i = 0; i < s.minutes.length; i += 2) minutes.push({ minute: new Date(s.minutes[i]).toISOString(), count: s.minutes[i + 1] });
      if (s.count > 0) minutes.push({ minute: new Date(s.minute).toISOString(), count: s.count });
      out.push({ credentialId: s.credentialId, grantId: s.grantId, endpoints: [...s.routes], networks: [...s.networks], minutes });
    }
    this.byCredential = new Map();
    this.pairs = 0;
    return out;
  }
}
