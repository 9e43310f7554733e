import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { z } from "zod";
import { env, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startTelemetry } from "./telemetry.js";
import { MemoryRegistry } from "./memory-registry.js";
import { MeshClients } from "./mesh-clients.js";
import { HealthState, ServingStatus } from "./health.js";
import { startMeshServer } from "./mesh-server.js";
import { metricsRoute } from "./http-routes.js";
import { clientObservability, serverObservability } from "./rpc-observability.js";
import { CHORUS_VERSION, loadConfigOrExit, nodeInfoOf, serveContracts, startOrExit } from "./run-service.js";
import type { Registration, ServiceInstance } from "./registry.js";
import type { ServiceModule, StartedService } from "./service-module.js";

export const embeddedEnvSchema = z.object({
  /** Interface of the shared gRPC port (every service's contract, health and reflection). */
  CHORUS_GRPC_HOST: env.host("127.0.0.1"),
  CHORUS_GRPC_PORT: env.port(8090),
  CHORUS_RPC_TIMEOUT_MS: env.positiveInt(5000),
  LOG_LEVEL: env.logLevel(),
});

export interface EmbeddedChorus {
  readonly grpcUrl: string;
  readonly urls: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Embedded mode: every service in this process, no external infrastructure. Services still
 * talk only through their contracts: the mesh clients use an in-process Connect transport
 * (same serialization, same interceptors), and the in-memory registry stands in for etcd.
 * All contracts are also served on one h2c port for outside gRPC tools.
 */
export async function runEmbedded(modules: readonly ServiceModule[]): Promise<EmbeddedChorus> {
  const config = loadConfigOrExit("chorus", () => loadConfig(embeddedEnvSchema));
  const telemetry = startTelemetry("embedded", "embedded");
  const logger = createLogger("chorus", config.LOG_LEVEL);
  const registry = new MemoryRegistry();
  let inProcess: Transport | undefined;
  const clients = new MeshClients({
    registry,
    transportFor: () => {
      if (!inProcess) throw new Error("in-process transport used before every service started");
      return inProcess;
    },
    defaultTimeoutMs: config.CHORUS_RPC_TIMEOUT_MS,
    logger,
  });

  const health = new HealthState();
  const instances = new Map<string, ServiceInstance>();
  const started: StartedService[] = [];
  for (const module of modules) {
    for (const c of module.contracts) health.set(c.typeName, ServingStatus.NOT_SERVING);
    const id = `${module.name}-embedded`;
    instances.set(module.name, {
      service: module.name,
      id,
      address: "",
      version: CHORUS_VERSION,
      startedAt: new Date().toISOString(),
      metadata: {},
    });
    started.push(
      await startOrExit("chorus", () => module.start({
        mode: "embedded",
        instanceId: id,
        version: CHORUS_VERSION,
        logger: logger.child({ service: module.name }),
        clients,
        registry,
        env: process.env,
        nodeInfo: () => nodeInfoOf(instances.get(module.name)!),
      })),
    );
  }
  const contracts = modules.flatMap((m) => m.contracts);
  inProcess = createRouterTransport((router) => serveContracts(router, started, contracts, health), {
    router: { interceptors: [serverObservability()] },
    transport: { interceptors: [clientObservability()] },
  });
  const server = await startMeshServer({
    host: config.CHORUS_GRPC_HOST,
    port: config.CHORUS_GRPC_PORT,
    routes: (router) => serveContracts(router, started, contracts, health),
    interceptors: [serverObservability()],
    http: metricsRoute,
    logger,
  });
  const address = `${config.CHORUS_GRPC_HOST}:${server.port}`;
  const registrations: Registration[] = [];
  modules.forEach((module, i) => {
    const instance = { ...instances.get(module.name)!, address, metadata: { ...started[i].metadata } };
    instances.set(module.name, instance);
  });
  for (const instance of instances.values()) registrations.push(await registry.register(instance));
  for (const c of contracts) health.set(c.typeName, ServingStatus.SERVING);

  const urls: Record<string, string> = { grpc: `http://${address}` };
  for (const s of started) Object.assign(urls, s.urls);
  logger.info({ urls }, "chorus embedded mode started");

  return {
    grpcUrl: `http://${address}`,
    urls,
    async stop() {
      health.setAll(ServingStatus.NOT_SERVING);
      for (const r of registrations) await r.revoke();
      await server.close();
      for (const s of started.reverse()) await s.stop();
      await telemetry.shutdown();
    },
  };
}
