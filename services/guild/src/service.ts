import type { ServiceModule } from "@chorus/mesh";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";

/** The guild service module: its contract handlers, started by main.ts or the embedded launcher. */
export const guildService: ServiceModule = {
  name: "guild",
  contracts: [GuildService],
  async start(ctx) {
    return {
      routes(router) {
        router.service(GuildService, {
          getStatus: () => ({ node: ctx.nodeInfo(), ownedGuilds: 0, onlineSessions: 0 }),
        });
      },
      async stop() {},
    };
  },
};
