import type { ConnectRouter } from "@connectrpc/connect";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ServiceContext } from "@chorus/mesh";
import { ServerService, ServingStatus } from "@chorus/contracts/chorus/api/v1/server_pb";
import { gatewayUrl, probeServices } from "./service-probe.js";

/** chorus.api.v1.ServerService: what a client needs to know about this deployment. */
export function serverInfoRoutes(ctx: ServiceContext) {
  return (router: ConnectRouter) =>
    router.service(ServerService, {
      async getServerInfo() {
        const probes = await probeServices(ctx);
        return {
          version: ctx.version,
          gatewayUrl: gatewayUrl(ctx),
          time: timestampNow(),
          services: probes.map((p) => ({
            name: p.name,
            instances: p.instances,
            healthyInstances: p.healthyInstances,
            status: p.serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING,
          })),
        };
      },
    });
}
