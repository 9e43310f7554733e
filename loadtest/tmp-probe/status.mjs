import { readProc } from "../dist/src/process-stats.js";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { ClusterTransports, createLogger, EtcdRegistry, MeshClients } from "@chorus/mesh";
import { startServiceProcess, waitFor } from "@chorus/testing";
const storage = await startServiceProcess("storage", { CHORUS_STORAGE_BACKEND: "cassandra", CHORUS_CASSANDRA_KEYSPACE: "chorus_bench", ...(process.env.PROF ? { NODE_OPTIONS: `--import file:///work/main/loadtest/dist/src/cpu-profile.js`, CHORUS_BENCH_CPU_PROF_DIR: process.env.PROF } : {}) }, 60000);
const logger = createLogger("p", "warn");
const registry = new EtcdRegistry({ endpoints: ["http://127.0.0.1:2379"], leaseTtlSeconds: 10, logger });
await registry.start();
const view = { kind: "etcd", start: () => registry.start(), register: (i) => registry.register(i), services: () => registry.services(), close: () => registry.close(),
  instances: (s) => registry.instances(s).filter((i) => i.id === storage.instanceId), watch: (s, l) => registry.watch(s, (list) => l(list.filter((i) => i.id === storage.instanceId))) };
const inst = await waitFor("reg", () => view.instances("storage")[0]);
const transports = new ClusterTransports();
const clients = new MeshClients({ registry: view, transportFor: (i) => transports.transportFor(i), defaultTimeoutMs: 5000, logger });
const c = clients.clientFor(StorageService, inst);
for (let round = 0; round < 3; round++) {
  const N = 2000; const c0 = readProc(storage.pid).cpuSeconds, s0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await c.getStatus({});
  const el = performance.now() - t0; const cc = process.cpuUsage(s0);
  console.log(`status: ${(el / N).toFixed(3)} ms/op, server cpu/op ${((readProc(storage.pid).cpuSeconds - c0) / N * 1000).toFixed(3)} ms, client cpu/op ${((cc.user + cc.system) / 1000 / N).toFixed(3)} ms`);
}
await storage.kill("SIGTERM"); transports.closeAll(); await registry.close();
