import type { ConnectRouter } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import type { NodeInfo } from "@chorus/contracts/chorus/mesh/v1/node_pb";
import type { Logger } from "pino";
import type { MeshClients } from "./mesh-clients.js";
import type { ServiceRegistry } from "./registry.js";

export type RunMode = "embedded" | "cluster";

/** What the mesh hands a service when it starts. */
export interface ServiceContext {
  readonly mode: RunMode;
  readonly instanceId: string;
  readonly version: string;
  readonly logger: Logger;
  /** Typed clients for other services' contracts, routed through the registry. */
  readonly clients: MeshClients;
  readonly registry: ServiceRegistry;
  /** Environment the service reads its own settings from (validate it with loadConfig). */
  readonly env: Record<string, string | undefined>;
  /** This instance's registry record, as the contracts' NodeInfo message. */
  nodeInfo(): NodeInfo;
}

/** A running service: its handlers and how to stop it. */
export interface StartedService {
  /** Registers the handlers of the service's contracts. May be called once per router. */
  routes(router: ConnectRouter): void;
  /** Extra registry metadata, e.g. public URLs. */
  readonly metadata?: Record<string, string>;
  /** Public URLs this service serves outside the mesh (printed at start-up). */
  readonly urls?: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A Chorus service as the mesh sees it: a name (its registry key and its contracts' package,
 * chorus.<name>.v1), the contracts it serves, and a start function. main.ts hands it to
 * runService (cluster mode); the launcher hands all of them to runEmbedded.
 */
export interface ServiceModule {
  readonly name: string;
  readonly contracts: readonly DescService[];
  start(ctx: ServiceContext): Promise<StartedService>;
}
