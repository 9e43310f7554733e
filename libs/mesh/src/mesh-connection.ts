import type { Logger } from "pino";
import { ClusterTransports } from "./cluster-transports.js";
import { EtcdRegistry } from "./etcd-registry.js";
import { MeshClients } from "./mesh-clients.js";

export interface MeshConnectionOptions {
  endpoints: string[];
  namespace?: string;
  leaseTtlSeconds?: number;
  defaultTimeoutMs?: number;
  logger: Logger;
}

export interface MeshConnection {
  readonly registry: EtcdRegistry;
  readonly clients: MeshClients;
  close(): Promise<void>;
}

/**
 * Joins a cluster as a caller only (tools, benchmarks, tests): watches the etcd registry and
 * routes typed calls to live instances exactly as services do, without registering itself.
 */
export async function connectMesh(options: MeshConnectionOptions): Promise<MeshConnection> {
  const registry = new EtcdRegistry({
    endpoints: options.endpoints,
    leaseTtlSeconds: options.leaseTtlSeconds ?? 10,
    namespace: options.namespace,
    logger: options.logger,
  });
  await registry.start();
  const transports = new ClusterTransports();
  const clients = new MeshClients({
    registry,
    transportFor: (i) => transports.transportFor(i),
    releaseTransport: (i) => transports.release(i),
    defaultTimeoutMs: options.defaultTimeoutMs ?? 5000,
    logger: options.logger,
  });
  return {
    registry,
    clients,
    async close() {
      transports.closeAll();
      await registry.close();
    },
  };
}
