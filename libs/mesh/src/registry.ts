/** One running instance of a service, as published in the registry. */
export interface ServiceInstance {
  /** Logical service name, e.g. "guild". */
  service: string;
  /** Unique instance id. */
  id: string;
  /** host:port of its gRPC/Connect endpoint. */
  address: string;
  version: string;
  /** ISO-8601 start time. */
  startedAt: string;
  metadata: Record<string, string>;
}

export interface Registration {
  readonly instance: ServiceInstance;
  /** Removes the instance from the registry at once (graceful shutdown). */
  revoke(): Promise<void>;
}

export type InstancesListener = (instances: readonly ServiceInstance[]) => void;

/**
 * Service discovery. Implementations keep a live, locally cached view of every instance so
 * that routing never waits on the registry; `watch` is told of every change.
 */
export interface ServiceRegistry {
  readonly kind: "etcd" | "memory";
  /** Resolves once the initial list has been loaded. */
  start(): Promise<void>;
  register(instance: ServiceInstance): Promise<Registration>;
  /** Live instances of a service, sorted by id. */
  instances(service: string): readonly ServiceInstance[];
  /** Names of all services with at least one live instance. */
  services(): string[];
  /** Calls `listener` on every change of `service`'s instance list; returns an unsubscribe function. */
  watch(service: string, listener: InstancesListener): () => void;
  close(): Promise<void>;
}

/** Shared bookkeeping for registry implementations: the cache and its listeners. */
export class InstanceCache {
  private readonly byService = new Map<string, Map<string, ServiceInstance>>();
  private readonly listeners = new Map<string, Set<InstancesListener>>();
  private readonly sorted = new Map<string, readonly ServiceInstance[]>();

  constructor(private readonly onChange?: (service: string, count: number) => void) {}

  upsert(instance: ServiceInstance): void {
    let map = this.byService.get(instance.service);
    if (!map) this.byService.set(instance.service, (map = new Map()));
    map.set(instance.id, instance);
    this.changed(instance.service);
  }

  remove(service: string, id: string): void {
    if (this.byService.get(service)?.delete(id)) this.changed(service);
  }

  list(service: string): readonly ServiceInstance[] {
    return this.sorted.get(service) ?? [];
  }

  services(): string[] {
    return [...this.byService.entries()].filter(([, m]) => m.size > 0).map(([s]) => s).sort();
  }

  watch(service: string, listener: InstancesListener): () => void {
    let set = this.listeners.get(service);
    if (!set) this.listeners.set(service, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private changed(service: string): void {
    const list = [...(this.byService.get(service)?.values() ?? [])].sort((a, b) => a.id.localeCompare(b.id));
    this.sorted.set(service, list);
    this.onChange?.(service, list.length);
    for (const listener of this.listeners.get(service) ?? []) listener(list);
  }
}
