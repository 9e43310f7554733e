import type { ServiceModule } from "@chorus/mesh";
import { RelayService } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import { RelayGuildCache } from "./guild-cache.js";
import { RelayFanout, type SessionLookup } from "./relay-fanout.js";
import { openSessionDirectory } from "./session-lookup.js";

/** The relay service module: its contract handlers, started by main.ts or the embedded launcher. */
export const relayService: ServiceModule = {
  name: "relay",
  contracts: [RelayService],
  async start(ctx) {
    const cache = new RelayGuildCache(ctx.clients, ctx.logger);
    const directory = await openSessionDirectory(ctx.env, ctx.logger);
    const lookupSessions: SessionLookup = (userIds) => directory.lookup(userIds);
    const fanout = new RelayFanout({ cache, clients: ctx.clients, registry: ctx.registry, lookupSessions, logger: ctx.logger });
    return {
      routes(router) {
        router.service(RelayService, {
          getStatus: () => ({ node: ctx.nodeInfo(), cachedGuilds: cache.cachedGuilds, cachedMembers: cache.cachedMembers }),
          fanout: (req) => fanout.fanout(req),
          fanoutBatch: (req) => fanout.fanoutBatch(req),
        });
      },
      async stop() {
        cache.close();
        await directory.close();
      },
    };
  },
};
