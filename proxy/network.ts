import { isIPv4, isIPv6 } from "node:net";
import type { IncomingMessage } from "node:http";

// The client network of a request, for usage signals (new_network): IPv4 /24,
// IPv6 /48. From the connection, or from X-Forwarded-For only when the
// connection comes from a configured trusted proxy (anyone else could write any
// address there). Computed once per connection and cached on the socket, so a
// keep-alive client costs no allocation per request.

/** "203.0.113.0/24", "2001:db8:1::/48", or null for what is not an address. */
export function networkOf(address: string): string | null {
  let a = address.trim();
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  if (a.startsWith("::ffff:") && isIPv4(a.slice(7))) a = a.slice(7); // IPv4-mapped
  if (isIPv4(a)) return a.slice(0, a.lastIndexOf(".")) + ".0/24";
  if (!isIPv6(a)) return null;
  return `${first3Groups(a).map((g) => parseInt(g, 16).toString(16)).join(":")}::/48`;
}

/** The first three 16-bit groups of a valid IPv6 address, "::" expanded. */
function first3Groups(a: string): string[] {
  const gap = a.indexOf("::");
  if (gap < 0) return a.split(":").slice(0, 3);
  const head = gap > 0 ? a.slice(0, gap).split(":") : [];
  const tailText = a.slice(gap + 2);
  const tail = tailText ? tailText.split(":") : [];
  const tailGroups = tail.reduce((n, w) => n + (w.includes(".") ? 2 : 1), 0);
  return [...head, ...Array<string>(8 - head.length - tailGroups).fill("0"), ...tail].slice(0, 3);
}

const NET = Symbol("tollgate.network");
const XFF = Symbol("tollgate.xff");
const XFF_NET = Symbol("tollgate.xffNetwork");
type CachedSocket = { remoteAddress?: string; [NET]?: string | null; [XFF]?: string; [XFF_NET]?: string | null };

/**
 * The request's client network. `trusted` holds the exact addresses of proxies
 * whose X-Forwarded-For is believed: the client is the right-most entry that is
 * not itself a trusted proxy (entries further left were written by the client).
 */
export function clientNetwork(req: IncomingMessage, trusted: ReadonlySet<string>): string | null {
  const sock = req.socket as unknown as CachedSocket;
  const remote = sock.remoteAddress ?? "";
  if (trusted.size > 0 && trusted.has(remote)) {
    const xff = req.headers["x-forwarded-for"];
    if (typeof xff === "string" && xff.length > 0) {
      if (sock[XFF] === xff) return sock[XFF_NET] ?? null;
      const hops = xff.split(",");
      let client: string | null = null;
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i].trim();
        client = hop;
        if (!trusted.has(hop)) break;
      }
      const net = client === null ? null : networkOf(client);
      sock[XFF] = xff;
      sock[XFF_NET] = net;
      return net;
    }
  }
  if (sock[NET] === undefined) sock[NET] = remote ? networkOf(remote) : null;
  return sock[NET] ?? null;
}
