// The floor for bench/proxy.ts: the same Node HTTP server and undici pool the
// Tollgate proxy uses, passing every request through with no decision, no
// header rewriting, no usage or metrics. What it costs is what any Node proxy
// on this stack costs; the Tollgate proxy's own work is the difference.
import http from "node:http";
import { Pool, type Dispatcher } from "undici";

const [port, upstream] = [Number(process.argv[2]), process.argv[3]];
const pool = new Pool(upstream, { connections: 64, pipelining: 1 });
const server = http.createServer((req, res) => {
  pool.dispatch({ path: req.url ?? "/", method: req.method as Dispatcher.HttpMethod, headers: {}, body: null }, {
    onRequestStart() {},
    onResponseStart(_c, status, headers) {
      res.writeHead(status, headers as http.OutgoingHttpHeaders);
    },
    onResponseData(_c, chunk) {
      res.write(chunk);
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_c, err) {
      res.destroy(err);
    },
  });
});
server.listen(port, "127.0.0.1", () => process.send?.("ready"));
