// What the Node data plane refuses or drops in a request's head, as nginx does
// before any Lua runs (ngx_http_request.c), so both data planes give the same
// answer (test/conformance/): a second Host or Authorization line, or a Host that
// is not a host, is a 400; a header whose name is not letters, digits and "-" is
// never forwarded (nginx's ignore_invalid_headers, with underscores_in_headers
// off). Without the last rule an upstream on CGI, WSGI, PHP or Rack, which reads
// "X_Tollgate_Principal" as "X-Tollgate-Principal", would take a caller's forged
// identity, method override or path rewrite that the hyphenated strip list misses.

/** ngx_http_validate_host: no "..", "/", space or control character, something before the port. */
export function validHost(h: string): boolean {
  let dot = -2;
  let hostLen = h.length;
  let state: "usual" | "literal" | "rest" = "usual";
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 0x2e) {
      if (dot === i - 1) return false;
      dot = i;
    } else if (c === 0x3a) {
      if (state === "usual") {
        hostLen = i;
        state = "rest";
      }
    } else if (c === 0x5b) {
      if (i === 0) state = "literal";
    } else if (c === 0x5d) {
      if (state === "literal") {
        hostLen = i + 1;
        state = "rest";
      }
    } else if (c === 0x2f || c <= 0x20 || c === 0x7f) return false;
  }
  if (dot === hostLen - 1) hostLen--;
  return hostLen > 0;
}

/** Why the head is refused (the header's name), or null. Reads the raw lines: Node keeps only the first Host and Authorization. */
export function headDefect(raw: string[]): string | null {
  let hosts = 0;
  let auths = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === 4 && n.toLowerCase() === "host") {
      if (++hosts > 1 || !validHost(raw[i + 1])) return "host";
    } else if (n.length === 13 && n.toLowerCase() === "authorization" && ++auths > 1) return "authorization";
  }
  return null;
}

const FORWARDABLE = /^[a-z0-9-]+$/;

/** A (lower-case) header name nginx would pass on. */
export const forwardableName = (name: string): boolean => FORWARDABLE.test(name);
