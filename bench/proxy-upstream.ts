// The minimal upstream for bench/proxy.ts, run as its own process so it does
// not share an event loop with the load generator: answers every request with
// a small fixed body over keep-alive.
import http from "node:http";

const port = Number(process.argv[2]);
const body = Buffer.from('{"ok":true}');
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.send?.("ready"));
