import type { FastifyInstance } from "fastify";
import { Code } from "@connectrpc/connect";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { validate } from "../../accounts/account-rules.js";
import { GuildRequestError } from "../../guilds/guild-errors.js";
import { createRoleSchema, modifyRoleSchema, reorderRolesSchema } from "../../guilds/guild-rules.js";
import { resultOf } from "../../guilds/guilds.js";
import { requireSession } from "../auth.js";
import { createRoleCommand, modifyRoleCommand } from "../guild-requests.js";
import { discordRole, sortedRoles } from "@chorus/discord-json/guilds";
import { pathSnowflake, pathSnowflakes } from "../path-ids.js";
import type { GuildRouteDependencies } from "./guilds.js";

type GuildParams = { Params: { guild_id: string } };
type RoleParams = { Params: { guild_id: string; role_id: string } };

const unknownRole = () => new GuildRequestError(Code.NotFound, RESTJSONErrorCodes.UnknownRole);

/** Discord's role routes: list, create, reorder, get, modify, delete. */
export function roleRoutes({ accounts, guilds }: GuildRouteDependencies) {
  return async (app: FastifyInstance) => {
    app.get<GuildParams>("/guilds/:guild_id/roles", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      return sortedRoles((await guilds.getGuild(session.userId, guildId)).roles).map(discordRole);
    });

    app.post<GuildParams>("/guilds/:guild_id/roles", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const body = validate(createRoleSchema, request.body ?? {});
      if (body.permissions === undefined || body.permissions === null) {
        // As Discord: a new role starts with @everyone's permissions (the role whose id is the guild's).
        const everyone = (await guilds.getGuild(session.userId, guildId)).roles.find((role) => role.id === guildId);
        body.permissions = everyone?.permissions ?? 0n;
      }
      return discordRole(resultOf(await guilds.execute(session.userId, guildId, createRoleCommand(body)), "role"));
    });

    app.patch<GuildParams>("/guilds/:guild_id/roles", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const positions = validate(reorderRolesSchema, request.body)
        .filter((entry) => entry.position !== undefined && entry.position !== null)
        .map((entry) => ({ roleId: entry.id, position: entry.position! }));
      const result = await guilds.execute(session.userId, guildId, { command: { case: "reorderRoles", value: { positions } } });
      return sortedRoles(resultOf(result, "roles").roles).map(discordRole);
    });

    app.get<RoleParams>("/guilds/:guild_id/roles/:role_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const role = (await guilds.getGuild(session.userId, ids.guild_id)).roles.find((r) => r.id === ids.role_id);
      if (!role) throw unknownRole();
      return discordRole(role);
    });

    app.patch<RoleParams>("/guilds/:guild_id/roles/:role_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const body = validate(modifyRoleSchema, request.body ?? {});
      return discordRole(resultOf(await guilds.execute(session.userId, ids.guild_id, modifyRoleCommand(ids.role_id, body)), "role"));
    });

    app.delete<RoleParams>("/guilds/:guild_id/roles/:role_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await guilds.execute(session.userId, ids.guild_id, { command: { case: "deleteRole", value: { roleId: ids.role_id } } });
      return reply.code(204).send();
    });
  };
}
