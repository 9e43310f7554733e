import { InstanceCache, type InstancesListener, type Registration, type ServiceInstance, type ServiceRegistry } from "./registry.js";
import { registryMetrics } from "./metrics.js";

/** The registry of embedded mode: every service lives in this process, so a map is enough. */
export class MemoryRegistry implements ServiceRegistry {
  readonly kind = "memory" as const;
  private readonly cache = new InstanceCache((service, count) => registryMetrics.instances.set({ service }, count));

  async start(): Promise<void> {}

  async register(instance: ServiceInstance): Promise<Registration> {
    this.cache.upsert(instance);
    registryMetrics.registered.set({ service: instance.service, instance: instance.id }, 1);
    return {
      instance,
      revoke: async () => {
        this.cache.remove(instance.service, instance.id);
        registryMetrics.registered.set({ service: instance.service, instance: instance.id }, 0);
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

  async close(): Promise<void> {}
}
