import type { ServiceModule } from "@chorus/mesh";
import { SearchService } from "@chorus/contracts/chorus/search/v1/search_pb";

/** The search service module: its contract handlers, started by main.ts or the embedded launcher. */
export const searchService: ServiceModule = {
  name: "search",
  contracts: [SearchService],
  async start(ctx) {
    return {
      routes(router) {
        router.service(SearchService, {
          getStatus: () => ({ node: ctx.nodeInfo(), backend: "none", queueDepth: 0 }),
        });
      },
      async stop() {},
    };
  },
};
