import type { ServiceModule } from "@chorus/mesh";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";

/** The storage service module: its contract handlers, started by main.ts or the embedded launcher. */
export const storageService: ServiceModule = {
  name: "storage",
  contracts: [StorageService],
  async start(ctx) {
    return {
      routes(router) {
        router.service(StorageService, {
          getStatus: () => ({ node: ctx.nodeInfo(), backend: "none" }),
        });
      },
      async stop() {},
    };
  },
};
