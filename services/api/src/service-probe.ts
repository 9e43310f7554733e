import type { ServiceContext, ServiceInstance } from "@chorus/mesh";
import { Health, HealthCheckResponse_ServingStatus } from "@chorus/contracts/grpc/health/v1/health_pb";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { RelayService } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { PushService } from "@chorus/contracts/chorus/push/v1/push_pb";
import { VoiceService } from "@chorus/contracts/chorus/voice/v1/voice_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { SearchService } from "@chorus/contracts/chorus/search/v1/search_pb";

/** Every service of a complete Chorus deployment, with the contract that reports its status. */
const statusContracts = {
  guild: GuildService,
  relay: RelayService,
  gateway: GatewayService,
  push: PushService,
  voice: VoiceService,
  storage: StorageService,
  search: SearchService,
} as const;

export const SERVICE_NAMES = ["api", ...Object.keys(statusContracts)] as const;

export interface ServiceProbe {
  name: string;
  instances: number;
  healthyInstances: number;
  serving: boolean;
}

const PROBE_TIMEOUT_MS = 1500;

async function probeInstance(ctx: ServiceContext, instance: ServiceInstance): Promise<boolean> {
  try {
    const contract = statusContracts[instance.service as keyof typeof statusContracts];
    if (contract) {
      await ctx.clients.clientFor(contract, instance).getStatus({}, { timeoutMs: PROBE_TIMEOUT_MS });
    } else {
      const res = await ctx.clients.clientFor(Health, instance).check({ service: "" }, { timeoutMs: PROBE_TIMEOUT_MS });
      if (res.status !== HealthCheckResponse_ServingStatus.SERVING) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks every registered instance of every service for its status, in parallel, each with a
 * short deadline. A service is serving when at least one of its instances answered.
 */
export async function probeServices(ctx: ServiceContext): Promise<ServiceProbe[]> {
  return Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const instances = ctx.registry.instances(name);
      const answers = await Promise.all(instances.map((i) => probeInstance(ctx, i)));
      const healthy = answers.filter(Boolean).length;
      return { name, instances: instances.length, healthyInstances: healthy, serving: healthy > 0 };
    }),
  );
}

/** WebSocket URL of the gateway, as a live gateway instance published it. */
export function gatewayUrl(ctx: ServiceContext): string {
  return ctx.registry.instances("gateway")[0]?.metadata.websocket_url ?? "";
}
