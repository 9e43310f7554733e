import http2 from "node:http2";
import { fork } from "node:child_process";
import { connectNodeAdapter, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { createClient } from "@connectrpc/connect";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { readProc } from "../dist/src/process-stats.js";
if (process.argv[2] === "server") {
  const handler = connectNodeAdapter({ routes: (r) => r.service(StorageService, { getStatus: () => ({ backend: "x", dbQueries: 1n }) }) });
  const server = http2.createServer(handler).listen(0, "127.0.0.1", () => process.send(server.address().port));
} else {
  const child = fork(process.argv[1], ["server"]);
  const port = await new Promise((r) => child.once("message", r));
  const baseUrl = `http://127.0.0.1:${port}`;
  const c = createClient(StorageService, createGrpcTransport({ baseUrl, sessionManager: new Http2SessionManager(baseUrl) }));
  for (let round = 0; round < 3; round++) {
    const N = 3000; const c0 = readProc(child.pid).cpuSeconds, s0 = process.cpuUsage(); const t0 = performance.now();
    for (let i = 0; i < N; i++) await c.getStatus({}, { timeoutMs: 5000 });
    const el = performance.now() - t0; const cc = process.cpuUsage(s0);
    console.log(`plain connect: ${(el / N).toFixed(3)} ms/op, server cpu/op ${((readProc(child.pid).cpuSeconds - c0) / N * 1000).toFixed(3)} ms, client cpu/op ${((cc.user + cc.system) / 1000 / N).toFixed(3)} ms`);
  }
  child.kill(); process.exit(0);
}
