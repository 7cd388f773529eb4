import { parseConfig } from "./config";
import { startProxy } from "./server";

// `npm run proxy`: the enforcement proxy as its own process.
let config;
try {
  config = parseConfig(process.env);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
const proxy = await startProxy(config);
let signals = 0;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    if (++signals > 1) process.exit(1);
    void proxy.close().then(() => process.exit(0));
  });
}
