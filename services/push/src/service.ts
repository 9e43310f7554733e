import type { ServiceModule } from "@chorus/mesh";
import { PushService } from "@chorus/contracts/chorus/push/v1/push_pb";

/** The push service module: its contract handlers, started by main.ts or the embedded launcher. */
export const pushService: ServiceModule = {
  name: "push",
  contracts: [PushService],
  async start(ctx) {
    return {
      routes(router) {
        router.service(PushService, {
          getStatus: () => ({ node: ctx.nodeInfo(), bufferDepth: 0, bufferCapacity: 0 }),
        });
      },
      async stop() {},
    };
  },
};
