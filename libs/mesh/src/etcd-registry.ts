import { Etcd3, type IKeyValue, type Lease, type Watcher } from "etcd3";
import type { Logger } from "pino";
import { InstanceCache, type InstancesListener, type Registration, type ServiceInstance, type ServiceRegistry } from "./registry.js";
import { registryMetrics } from "./metrics.js";

export const REGISTRY_PREFIX = "/chorus/services/";

/** Key prefix of a registry namespace: deployments (or test runs) sharing one etcd stay apart. */
export function registryPrefix(namespace?: string): string {
  return namespace ? `/chorus/${namespace}/services/` : REGISTRY_PREFIX;
}

export interface EtcdRegistryOptions {
  endpoints: string[];
  /** Lease TTL in seconds: how long a crashed instance stays listed. */
  leaseTtlSeconds: number;
  /** Optional namespace: keys live under /chorus/<namespace>/services/ instead. */
  namespace?: string;
  logger: Logger;
}

/**
 * Service registry on etcd. Each instance lives at /chorus/services/<service>/<id> (or under
 * /chorus/<namespace>/services/ when a namespace is configured) under a
 * lease kept alive by etcd3; a crashed process stops renewing and etcd deletes its key when
 * the lease expires. One prefix watch, started at the revision of the initial read so no
 * change is missed, keeps the local cache current.
 */
export class EtcdRegistry implements ServiceRegistry {
  readonly kind = "etcd" as const;
  private readonly client: Etcd3;
  private readonly cache = new InstanceCache((service, count) => registryMetrics.instances.set({ service }, count));
  private watcher?: Watcher;
  private readonly registrations = new Set<EtcdRegistration>();
  private readonly prefix: string;

  constructor(private readonly options: EtcdRegistryOptions) {
    this.client = new Etcd3({ hosts: options.endpoints, dialTimeout: 3000 });
    this.prefix = registryPrefix(options.namespace);
  }

  async start(): Promise<void> {
    const initial = await this.client.getAll().prefix(this.prefix).exec();
    for (const kv of initial.kvs) this.applyPut(kv);
    const revision = BigInt(initial.header.revision) + 1n;
    this.watcher = await this.client.watch().prefix(this.prefix).startRevision(revision.toString()).create();
    this.watcher.on("put", (kv) => this.applyPut(kv));
    this.watcher.on("delete", (kv) => {
      const parsed = parseKey(this.prefix, kv.key.toString());
      if (parsed) this.cache.remove(parsed.service, parsed.id);
    });
    this.watcher.on("error", (err) => this.options.logger.warn({ err }, "registry watch error; etcd3 reconnects"));
  }

  async register(instance: ServiceInstance): Promise<Registration> {
    const registration = new EtcdRegistration(this.client, `${this.prefix}${instance.service}/${instance.id}`, instance, this.options);
    await registration.establish();
    this.registrations.add(registration);
    return {
      instance,
      revoke: async () => {
        this.registrations.delete(registration);
        await registration.revoke();
      },
    };
  }

  instances(service: string): readonly ServiceInstance[] {
    return this.cache.list(service);
  }

  services(): string[] {
    return this.cache.services();
  }

  watch(service: string, listener: InstancesListener): () => void {
    return this.cache.watch(service, listener);
  }

  async close(): Promise<void> {
    await Promise.all([...this.registrations].map((r) => r.revoke()));
    this.registrations.clear();
    await this.watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  private applyPut(kv: IKeyValue): void {
    try {
      const instance = JSON.parse(kv.value.toString()) as ServiceInstance;
      if (instance && typeof instance.service === "string" && typeof instance.id === "string") this.cache.upsert(instance);
    } catch (err) {
      this.options.logger.warn({ err, key: kv.key.toString() }, "ignoring malformed registry entry");
    }
  }
}

function parseKey(prefix: string, key: string): { service: string; id: string } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const [service, id] = key.slice(prefix.length).split("/");
  return service && id ? { service, id } : undefined;
}

/** One instance's lease; re-registers with a fresh lease if etcd ever reports it lost. */
class EtcdRegistration {
  private lease?: Lease;
  private revoked = false;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly instance: ServiceInstance,
    private readonly options: EtcdRegistryOptions,
  ) {}

  async establish(): Promise<void> {
    const lease = this.client.lease(this.options.leaseTtlSeconds, { autoKeepAlive: true });
    this.lease = lease;
    lease.on("lost", (err) => {
      if (this.revoked || lease !== this.lease) return;
      registryMetrics.leaseRenewals.inc({ service: this.instance.service });
      registryMetrics.registered.set({ service: this.instance.service, instance: this.instance.id }, 0);
      this.options.logger.warn({ err }, "registry lease lost; registering again");
      this.retryEstablish();
    });
    await lease.put(this.key).value(JSON.stringify(this.instance)).exec();
    registryMetrics.registered.set({ service: this.instance.service, instance: this.instance.id }, 1);
  }

  private retryEstablish(delayMs = 250): void {
    setTimeout(() => {
      if (this.revoked) return;
      this.establish().catch((err) => {
        this.options.logger.warn({ err }, "registry re-registration failed; retrying");
        this.retryEstablish(Math.min(delayMs * 2, 5000));
      });
    }, delayMs).unref();
  }

  async revoke(): Promise<void> {
    if (this.revoked) return;
    this.revoked = true;
    registryMetrics.registered.set({ service: this.instance.service, instance: this.instance.id }, 0);
    await this.lease?.revoke().catch(() => undefined);
  }
}
