import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@chorus/contracts/grpc/health/v1/health_pb";

export { ServingStatus };

/**
 * Serving status per contract name, as the gRPC health protocol reports it. The empty name ""
 * stands for the whole server. Watchers are told of every change.
 */
export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  private readonly listeners = new Set<() => void>();

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const listener of this.listeners) listener();
  }

  /** Marks every registered name, the server included (used on shutdown). */
  setAll(status: ServingStatus): void {
    for (const name of this.statuses.keys()) this.set(name, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  all(): Map<string, ServingStatus> {
    return new Map(this.statuses);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Serves grpc.health.v1.Health (Check, List, Watch) from a HealthState. */
export function registerHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, {
    check(req) {
      const status = state.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },
    list() {
      return { statuses: Object.fromEntries([...state.all()].map(([name, status]) => [name, { status }])) };
    },
    async *watch(req, ctx) {
      let wake: (() => void) | undefined;
      const unsubscribe = state.onChange(() => wake?.());
      const aborted = new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      try {
        let last: ServingStatus | undefined;
        while (!ctx.signal.aborted) {
          const status = state.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last) {
            last = status;
            yield { status };
          }
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        }
      } finally {
        unsubscribe();
      }
    },
  });
}
