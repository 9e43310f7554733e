import { readProc } from "../dist/src/process-stats.js";
import { create } from "@bufbuild/protobuf";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { ClusterTransports, createLogger, EtcdRegistry, MeshClients } from "@chorus/mesh";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { startServiceProcess, waitFor } from "@chorus/testing";
const storage = await startServiceProcess("storage", { CHORUS_STORAGE_BACKEND: "cassandra", CHORUS_CASSANDRA_KEYSPACE: "chorus_bench", ...(process.env.PROF ? { NODE_OPTIONS: `--import file:///work/main/loadtest/dist/src/cpu-profile.js`, CHORUS_BENCH_CPU_PROF_DIR: process.env.PROF } : {}) }, 60000);
const logger = createLogger("p", "warn");
const registry = new EtcdRegistry({ endpoints: ["http://127.0.0.1:2379"], leaseTtlSeconds: 10, logger });
await registry.start();
const view = { kind: "etcd", start: () => registry.start(), register: (i) => registry.register(i), services: () => registry.services(), close: () => registry.close(),
  instances: (s) => registry.instances(s).filter((i) => i.id === storage.instanceId), watch: (s, l) => registry.watch(s, (list) => l(list.filter((i) => i.id === storage.instanceId))) };
await waitFor("reg", () => view.instances("storage")[0]);
const transports = new ClusterTransports();
const clients = new MeshClients({ registry: view, transportFor: (i) => transports.transportFor(i), defaultTimeoutMs: 5000, logger });
const ids = new SnowflakeGenerator({ workerId: 29, processId: 1 });
const ch = ids.next();
{ const c0 = readProc(storage.pid).cpuSeconds; const s0 = process.cpuUsage(); await new Promise((r) => setTimeout(r, 5000)); const cc = process.cpuUsage(s0); console.log("idle 5s: server cpu", (readProc(storage.pid).cpuSeconds - c0).toFixed(2), "client cpu", ((cc.user+cc.system)/1e6).toFixed(2)); }
const c = clients.client(StorageService, ch);
const N = Number(process.env.N ?? 500);
const conc = Number(process.env.C ?? 1);
async function measure(name, fn) {
  const c0 = readProc(storage.pid).cpuSeconds, s0 = process.cpuUsage();
  const lat = []; let i = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (i < N) { i++; const s = performance.now(); await fn(); lat.push(performance.now() - s); } }));
  const el = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  const sc = readProc(storage.pid).cpuSeconds - c0, cc = process.cpuUsage(s0); 
  console.log(`   server cpu/op ${(sc / N * 1000).toFixed(2)} ms, client cpu/op ${((cc.user + cc.system) / 1000 / N).toFixed(2)} ms`);
  console.log(name, `n=${N} c=${conc} ${(N / el * 1000).toFixed(0)}/s p50=${q(0.5)} p90=${q(0.9)} p99=${q(0.99)} max=${q(1)}`);
}
await measure("insert", () => c.insertMessage({ message: create(MessageSchema, { id: ids.next(), channelId: ch, authorId: 5n, content: "x".repeat(100), mentions: [7n] }) }));
await measure("insert", () => c.insertMessage({ message: create(MessageSchema, { id: ids.next(), channelId: ch, authorId: 5n, content: "x".repeat(100), mentions: [7n] }) }));
await measure("list", () => c.listMessages({ channelId: ch, limit: 50 }));
await measure("list", () => c.listMessages({ channelId: ch, limit: 50 }));
await measure("status", () => c.getStatus({}));
const m = await (await fetch(`http://${storage.address}/metrics`)).text();
console.log(m.split("\n").filter((l) => /server.*(sum|count)/.test(l) && !l.startsWith("#")).join("\n"));
await storage.kill("SIGTERM");
transports.closeAll(); await registry.close();
