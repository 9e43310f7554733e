import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { ConnectRouter } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Health } from "@chorus/contracts/grpc/health/v1/health_pb";
import { NodeInfoSchema } from "@chorus/contracts/chorus/mesh/v1/node_pb";
import * as reflectionV1 from "@chorus/contracts/grpc/reflection/v1/reflection_pb";
import * as reflectionV1alpha from "@chorus/contracts/grpc/reflection/v1alpha/reflection_pb";
import { ConfigError, loadConfig, meshEnvSchema } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { startTelemetry } from "./telemetry.js";
import { EtcdRegistry } from "./etcd-registry.js";
import { ClusterTransports } from "./cluster-transports.js";
import { MeshClients } from "./mesh-clients.js";
import { HealthState, registerHealth, ServingStatus } from "./health.js";
import { registerReflection } from "./reflection.js";
import { startMeshServer } from "./mesh-server.js";
import { metricsRoute } from "./http-routes.js";
import { serverObservability } from "./rpc-observability.js";
import { admissionControl } from "./admission-control.js";
import type { ServiceInstance } from "./registry.js";
import type { ServiceContext, ServiceModule, StartedService } from "./service-module.js";

export const CHORUS_VERSION = "0.1.0";

/** Contracts every Chorus server answers besides its own. */
export const standardContracts = [Health, reflectionV1.ServerReflection, reflectionV1alpha.ServerReflection];

export function nodeInfoOf(instance: ServiceInstance) {
  return create(NodeInfoSchema, {
    service: instance.service,
    instanceId: instance.id,
    address: instance.address,
    version: instance.version,
    startedAt: timestampFromDate(new Date(instance.startedAt)),
    metadata: instance.metadata,
  });
}

/** Validates env with the schema, or prints the error naming each bad variable and exits. */
export function loadConfigOrExit<T>(program: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${program}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Same as loadConfigOrExit for a service's start, which validates its own variables. */
export async function startOrExit<T>(program: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${program}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function newInstanceId(service: string): string {
  return `${service}-${hostname().replace(/[^A-Za-z0-9.-]/g, "")}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** Registers a contract set on a router with health and reflection beside it. */
export function serveContracts(router: ConnectRouter, started: StartedService[], contracts: DescServiceList, health: HealthState) {
  for (const s of started) s.routes(router);
  registerHealth(router, health);
  registerReflection(router, [...contracts, ...standardContracts]);
}
type DescServiceList = ServiceModule["contracts"];

/**
 * Cluster mode: runs one service as its own process. Validates the environment, starts
 * tracing, joins the etcd registry, serves the service's contracts with health and
 * reflection on one h2c port, registers under a lease, and on SIGTERM/SIGINT drains:
 * NOT_SERVING, deregister, finish in-flight calls, stop.
 */
export async function runService(module: ServiceModule): Promise<void> {
  const program = `chorus-${module.name}`;
  const config = loadConfigOrExit(program, () => loadConfig(meshEnvSchema));
  const instanceId = config.CHORUS_INSTANCE_ID ?? newInstanceId(module.name);
  const telemetry = startTelemetry(module.name, instanceId);
  const logger: Logger = createLogger(program, config.LOG_LEVEL, { instance: instanceId });

  const registry = new EtcdRegistry({
    endpoints: config.CHORUS_ETCD_ENDPOINTS,
    leaseTtlSeconds: config.CHORUS_LEASE_TTL_SECONDS,
    namespace: config.CHORUS_REGISTRY_NAMESPACE,
    logger,
  });
  try {
    await registry.start();
  } catch (err) {
    logger.fatal({ err }, `cannot reach etcd at ${config.CHORUS_ETCD_ENDPOINTS.join(",")} (CHORUS_ETCD_ENDPOINTS)`);
    process.exit(1);
  }

  const transports = new ClusterTransports();
  const clients = new MeshClients({
    registry,
    transportFor: (i) => transports.transportFor(i),
    releaseTransport: (i) => transports.release(i),
    defaultTimeoutMs: config.CHORUS_RPC_TIMEOUT_MS,
    logger,
  });

  let instance: ServiceInstance = {
    service: module.name,
    id: instanceId,
    address: "",
    version: CHORUS_VERSION,
    startedAt: new Date().toISOString(),
    metadata: {},
  };
  const ctx: ServiceContext = {
    mode: "cluster",
    instanceId,
    version: CHORUS_VERSION,
    logger,
    clients,
    registry,
    env: process.env,
    nodeInfo: () => nodeInfoOf(instance),
  };

  const health = new HealthState();
  for (const c of module.contracts) health.set(c.typeName, ServingStatus.NOT_SERVING);
  const started = await startOrExit(program, () => module.start(ctx));
  const server = await startMeshServer({
    host: config.CHORUS_GRPC_HOST,
    port: config.CHORUS_GRPC_PORT,
    routes: (router) => serveContracts(router, [started], module.contracts, health),
    // Observability outermost, so refused calls are counted and traced too.
    interceptors: [serverObservability(), admissionControl(config.CHORUS_MAX_INFLIGHT_RPCS)],
    http: metricsRoute,
    logger,
  });
  instance = {
    ...instance,
    address: config.CHORUS_ADVERTISE_ADDRESS ?? `${config.CHORUS_GRPC_HOST}:${server.port}`,
    metadata: { ...started.metadata },
  };
  const registration = await registry.register(instance);
  for (const c of module.contracts) health.set(c.typeName, ServingStatus.SERVING);
  logger.info({ address: instance.address, urls: started.urls ?? {} }, "service started");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    health.setAll(ServingStatus.NOT_SERVING);
    await registration.revoke().catch((err) => logger.warn({ err }, "deregistration failed"));
    await server.close();
    await started.stop();
    transports.closeAll();
    await registry.close();
    await telemetry.shutdown();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
