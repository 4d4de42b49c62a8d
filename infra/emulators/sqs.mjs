// Starts the fauxqs SQS emulator on 127.0.0.1 only. Its own CLI binds every interface, so the
// local cloud starts it through buildApp instead. Usage: node sqs.mjs <port>
import { buildApp } from "fauxqs";

const port = Number(process.argv[2] || 0);
const app = buildApp({ logger: false, host: `127.0.0.1:${port}`, defaultRegion: process.env.AWS_REGION || "us-east-1" });
await app.listen({ host: "127.0.0.1", port });
console.log(`fauxqs listening on 127.0.0.1:${app.server.address().port}`);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => app.close().then(() => process.exit(0)));
}
