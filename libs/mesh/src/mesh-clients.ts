import { Code, ConnectError, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { NotOwnerSchema } from "@chorus/contracts/chorus/mesh/v1/errors_pb";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import { HashRing } from "./hash-ring.js";
import { rpcMetrics } from "./metrics.js";
import type { ServiceInstance, ServiceRegistry } from "./registry.js";

/**
 * The registry name of the service behind a contract: `chorus.guild.v1.GuildService` is
 * served by "guild". Contracts are the only coupling between services, so the package is
 * the natural key.
 */
export function serviceNameOf(service: DescService): string {
  const parts = service.typeName.split(".");
  if (parts[0] !== "chorus" || parts.length < 4) {
    throw new Error(`${service.typeName} is not a chorus.<service>.v1 contract`);
  }
  return parts[1];
}

/** Calls marked NO_SIDE_EFFECTS or IDEMPOTENT in the contract may be retried on another instance. */
export function isRetryable(method: DescMethod): boolean {
  return (
    method.methodKind === "unary" &&
    (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
      method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT)
  );
}

export interface MeshClientsOptions {
  registry: ServiceRegistry;
  /** Transport to reach one instance (HTTP/2 in cluster mode, in-process in embedded mode). */
  transportFor(instance: ServiceInstance): Transport;
  /** Called when an instance leaves the registry, to release its connections. */
  releaseTransport?(instance: ServiceInstance): void;
  /** Deadline of every call that does not set `timeoutMs` itself. */
  defaultTimeoutMs: number;
  /** Attempts for idempotent calls (first try included). */
  maxAttempts?: number;
  /** How long an instance that refused a call is avoided before being tried again. */
  suspectMs?: number;
  logger: Logger;
}

export type ShardKey = string | bigint;

/**
 * The mesh client factory. `client(Contract, shardKey?)` returns a typed Connect client whose
 * every call picks a live instance at call time: by consistent hash of the shard key for
 * sharded services (so every caller reaches the same owner), round-robin otherwise. Every call
 * carries a deadline; calls that fail with UNAVAILABLE are retried on the next instance only
 * when the contract marks the method idempotent.
 */
export class MeshClients {
  private readonly rings = new Map<string, HashRing>();
  private readonly tracked = new Set<string>();
  private readonly roundRobin = new Map<string, number>();
  private readonly suspects = new Map<string, number>();
  private readonly instanceClients = new Map<string, unknown>();
  private readonly maxAttempts: number;
  private readonly suspectMs: number;

  constructor(private readonly options: MeshClientsOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.suspectMs = options.suspectMs ?? 3000;
  }

  client<S extends DescService>(service: S, shardKey?: ShardKey): Client<S> {
    const name = serviceNameOf(service);
    return this.build(service, () => this.pick(name, shardKey));
  }

  /** A client bound to one specific instance (health probes, admin tools). No retries elsewhere. */
  clientFor<S extends DescService>(service: S, instance: ServiceInstance): Client<S> {
    return this.build(service, () => instance, 1);
  }

  /** The instance a shard key routes to right now, or undefined when none is live. */
  ownerOf(service: string, shardKey: ShardKey): ServiceInstance | undefined {
    try {
      return this.pick(service, shardKey);
    } catch {
      return undefined;
    }
  }

  private build<S extends DescService>(service: S, choose: () => ServiceInstance, attemptsCap?: number): Client<S> {
    const client: Record<string, unknown> = {};
    for (const method of service.methods) {
      const attempts = attemptsCap ?? (isRetryable(method) ? this.maxAttempts : 1);
      client[method.localName] =
        method.methodKind === "unary"
          ? (request: unknown, options?: CallOptions) => this.callUnary(service, method, choose, attempts, request, options)
          : (request: unknown, options?: CallOptions) => {
              const instance = choose();
              const target = this.instanceClient(service, instance) as Record<string, (r: unknown, o: CallOptions) => unknown>;
              return target[method.localName](request, this.withDeadline(options));
            };
    }
    return client as Client<S>;
  }

  private async callUnary(
    service: DescService,
    method: DescMethod,
    choose: () => ServiceInstance,
    attempts: number,
    request: unknown,
    options: CallOptions | undefined,
  ): Promise<unknown> {
    // One deadline for the whole call, retries included.
    const deadline = Date.now() + (options?.timeoutMs ?? this.options.defaultTimeoutMs);
    let lastError: ConnectError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const instance = choose();
      const target = this.instanceClient(service, instance) as Record<string, (r: unknown, o: CallOptions) => Promise<unknown>>;
      try {
        return await target[method.localName](request, { ...options, timeoutMs: remaining });
      } catch (e) {
        const error = asInstanceLoss(ConnectError.from(e), options);
        if (error.code !== Code.Unavailable) throw error;
        // A live instance that does not own the key is not dead: only its ring view differs.
        if (error.findDetails(NotOwnerSchema).length === 0) this.markSuspect(instance);
        lastError = error;
        if (attempt < attempts) {
          rpcMetrics.clientRetries.inc({ service: service.typeName, method: method.name });
          await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** (attempt - 1), Math.max(0, deadline - Date.now()))));
        }
      }
    }
    throw lastError ?? new ConnectError(`deadline exceeded calling ${service.typeName}/${method.name}`, Code.DeadlineExceeded);
  }

  private withDeadline(options: CallOptions | undefined): CallOptions {
    return { ...options, timeoutMs: options?.timeoutMs ?? this.options.defaultTimeoutMs };
  }

  private pick(service: string, shardKey: ShardKey | undefined): ServiceInstance {
    this.track(service);
    const instances = this.options.registry.instances(service);
    if (instances.length === 0) {
      throw new ConnectError(`no live instance of service "${service}"`, Code.Unavailable);
    }
    const now = Date.now();
    const usable = (i: ServiceInstance) => (this.suspects.get(i.id) ?? 0) <= now;
    if (shardKey === undefined) {
      const candidates = instances.filter(usable);
      const pool = candidates.length > 0 ? candidates : instances;
      const next = (this.roundRobin.get(service) ?? 0) % pool.length;
      this.roundRobin.set(service, next + 1);
      return pool[next];
    }
    // The ring spans every registered instance so that ownership only moves when the registry
    // changes; an instance that just refused a call is skipped until it expires or recovers.
    const ring = this.ringFor(service);
    const byId = new Map(instances.map((i) => [i.id, i]));
    for (const id of ring.lookupN(shardKey, ring.size)) {
      const instance = byId.get(id);
      if (instance && usable(instance)) return instance;
    }
    return byId.get(ring.lookup(shardKey) ?? "") ?? instances[0];
  }

  private ringFor(service: string): HashRing {
    let ring = this.rings.get(service);
    if (!ring) {
      ring = new HashRing();
      ring.setNodes(this.options.registry.instances(service).map((i) => i.id));
      this.rings.set(service, ring);
    }
    return ring;
  }

  /** Follows a service's instance list once: keeps its ring current and drops departed instances' clients. */
  private track(service: string): void {
    if (this.tracked.has(service)) return;
    this.tracked.add(service);
    let known = new Map(this.options.registry.instances(service).map((i) => [i.id, i]));
    this.options.registry.watch(service, (instances) => {
      this.rings.get(service)?.setNodes(instances.map((i) => i.id));
      const current = new Map(instances.map((i) => [i.id, i]));
      for (const [id, gone] of known) if (!current.has(id)) this.forget(gone);
      known = current;
    });
  }

  private forget(instance: ServiceInstance): void {
    this.suspects.delete(instance.id);
    for (const key of [...this.instanceClients.keys()]) if (key.endsWith(`@${instance.id}`)) this.instanceClients.delete(key);
    this.options.releaseTransport?.(instance);
  }

  private markSuspect(instance: ServiceInstance): void {
    this.suspects.set(instance.id, Date.now() + this.suspectMs);
    this.options.logger.debug({ instance: instance.id, service: instance.service }, "instance refused a call; avoiding it for a while");
  }

  private instanceClient(service: DescService, instance: ServiceInstance): unknown {
    const key = `${service.typeName}@${instance.id}`;
    let client = this.instanceClients.get(key);
    if (!client) {
      client = createClient(service, this.options.transportFor(instance));
      this.instanceClients.set(key, client);
    }
    return client;
  }
}

/**
 * A peer that dies mid-call shows up on the client as one of two codes: CANCELED (it reset its
 * HTTP/2 streams with CANCEL) or ABORTED (the connection was reset under the call: Connect
 * maps ECONNRESET and destroyed streams to ABORTED, keeping the Node error as the cause).
 * Unless the caller aborted the call itself, that is the instance going away: report it as
 * UNAVAILABLE so that callers see one code for it and idempotent calls are retried. An ABORTED
 * that the server answered (e.g. storage's fenced append) has no such cause and is kept.
 */
export function asInstanceLoss(error: ConnectError, options: CallOptions | undefined): ConnectError {
  if (options?.signal?.aborted) return error;
  const lost = error.code === Code.Canceled || (error.code === Code.Aborted && hasTransportCause(error));
  if (!lost) return error;
  return new ConnectError(`instance lost during the call: ${error.rawMessage}`, Code.Unavailable, error.metadata, undefined, error);
}

/** Node's codes for a connection or stream torn down under a call. */
const TRANSPORT_FAILURES = new Set(["ECONNRESET", "EPIPE", "ERR_STREAM_DESTROYED", "ERR_HTTP2_INVALID_STREAM", "ERR_HTTP2_STREAM_ERROR"]);

function hasTransportCause(error: unknown): boolean {
  for (let cause = (error as { cause?: unknown }).cause, depth = 0; cause && depth < 8; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && TRANSPORT_FAILURES.has(code)) return true;
  }
  return false;
}

/**
 * The UNAVAILABLE answer of a live instance of a sharded service that does not own `key`:
 * callers retry idempotent calls without taking the instance for dead.
 */
export function notOwnerError(instanceId: string, key: ShardKey): ConnectError {
  return new ConnectError(`instance ${instanceId} does not own ${key}; retry on its owner`, Code.Unavailable, undefined, [
    { desc: NotOwnerSchema, value: create(NotOwnerSchema, { instanceId }) },
  ]);
}
