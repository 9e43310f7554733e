import type { ServiceModule } from "@chorus/mesh";
import { RelayService } from "@chorus/contracts/chorus/relay/v1/relay_pb";

/** The relay service module: its contract handlers, started by main.ts or the embedded launcher. */
export const relayService: ServiceModule = {
  name: "relay",
  contracts: [RelayService],
  async start(ctx) {
    return {
      routes(router) {
        router.service(RelayService, {
          getStatus: () => ({ node: ctx.nodeInfo(), cachedGuilds: 0, cachedMembers: 0 }),
        });
      },
      async stop() {},
    };
  },
};
