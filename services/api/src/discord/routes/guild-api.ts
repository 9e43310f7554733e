import type { FastifyInstance } from "fastify";
import { channelRoutes } from "./channels.js";
import { guildRoutes, type GuildRouteDependencies } from "./guilds.js";
import { inviteRoutes } from "./invites.js";
import { memberRoutes } from "./members.js";
import { roleRoutes } from "./roles.js";

/** Every Discord route of guilds and private channels: guilds, channels, roles, members and bans, invites, DMs. */
export function guildApiRoutes(deps: GuildRouteDependencies) {
  return async (app: FastifyInstance) => {
    await app.register(guildRoutes(deps));
    await app.register(channelRoutes(deps));
    await app.register(roleRoutes(deps));
    await app.register(memberRoutes(deps));
    await app.register(inviteRoutes(deps));
  };
}
