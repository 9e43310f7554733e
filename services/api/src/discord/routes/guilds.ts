import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Accounts } from "../../accounts/accounts.js";
import { validate } from "../../accounts/account-rules.js";
import { avatarHash } from "../../accounts/avatars.js";
import { createGuildSchema, int, modifyGuildSchema, queryFlag, snowflake } from "../../guilds/guild-rules.js";
import { resultOf, type Guilds } from "../../guilds/guilds.js";
import type { Emojis } from "../../emojis/emojis.js";
import { requireSession } from "../auth.js";
import { modifyGuildCommand } from "../guild-requests.js";
import { discordGuild, discordMember, discordPartialGuild } from "@chorus/discord-json/guilds";
import { pathSnowflake } from "../path-ids.js";
import { lookUpUsers } from "../user-lookup.js";

export interface GuildRouteDependencies {
  accounts: Accounts;
  guilds: Guilds;
  /** Deletes a guild with its emojis' images. */
  emojis: Pick<Emojis, "deleteGuild">;
}

/** Room for a guild icon as a base64 data URI (4/3 of 10 MiB) and the other fields. */
export const ICON_BODY_LIMIT = Math.ceil((10 * 1024 * 1024 * 4) / 3) + 64 * 1024;

type GuildParams = { Params: { guild_id: string } };

const myGuildsQuerySchema = z.object({
  after: snowflake().optional(),
  limit: int(1, 200).optional(),
  with_counts: z.unknown().optional().transform(queryFlag),
});

/**
 * Discord's guild routes: POST /guilds, GET/PATCH/DELETE /guilds/:id, the caller's guilds
 * (GET /users/@me/guilds, leaving one, the caller's member object in one).
 */
export function guildRoutes({ accounts, guilds, emojis }: GuildRouteDependencies) {
  return async (app: FastifyInstance) => {
    app.post("/guilds", { bodyLimit: ICON_BODY_LIMIT }, async (request, reply) => {
      const session = await requireSession(accounts, request);
      const body = validate(createGuildSchema, request.body ?? {});
      const guild = await guilds.createGuild(session.userId, {
        name: body.name,
        icon: body.icon ? avatarHash(body.icon, "icon") : undefined,
        description: body.description ?? undefined,
      });
      const { roles } = await guilds.getGuild(session.userId, guild.id);
      return reply.code(201).send(discordGuild(guild, roles));
    });

    app.get<GuildParams & { Querystring: Record<string, unknown> }>("/guilds/:guild_id", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const view = await guilds.getGuild(session.userId, guildId);
      const guild = discordGuild(view.guild!, view.roles, view.emojis);
      if (!queryFlag(request.query.with_counts)) return guild;
      return { ...guild, approximate_member_count: view.memberCount, approximate_presence_count: await guilds.onlineCount(guildId) };
    });

    app.patch<GuildParams>("/guilds/:guild_id", { bodyLimit: ICON_BODY_LIMIT }, async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const body = validate(modifyGuildSchema, request.body ?? {});
      const guild = resultOf(await guilds.execute(session.userId, guildId, modifyGuildCommand(body)), "guild");
      const { roles, emojis } = await guilds.getGuild(session.userId, guildId);
      return discordGuild(guild, roles, emojis);
    });

    app.delete<GuildParams>("/guilds/:guild_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      await emojis.deleteGuild(session.userId, guildId);
      return reply.code(204).send();
    });

    app.get<{ Querystring: Record<string, unknown> }>("/users/@me/guilds", async (request) => {
      const session = await requireSession(accounts, request);
      const query = validate(myGuildsQuerySchema, request.query ?? {});
      const views = await guilds.myGuilds(session.userId, { afterGuildId: query.after, limit: query.limit });
      return Promise.all(
        views.map(async (view) => {
          const partial = discordPartialGuild(view.guild!, session.userId, view.permissions);
          if (!query.with_counts) return partial;
          return { ...partial, approximate_member_count: view.memberCount, approximate_presence_count: await guilds.onlineCount(view.guild!.id) };
        }),
      );
    });

    app.delete<GuildParams>("/users/@me/guilds/:guild_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      await guilds.execute(session.userId, guildId, { command: { case: "leaveGuild", value: {} } });
      return reply.code(204).send();
    });

    app.get<GuildParams>("/users/@me/guilds/:guild_id/member", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const view = await guilds.getGuild(session.userId, guildId);
      const users = await lookUpUsers(accounts, [session.userId]);
      return discordMember(view.member!, users, view.permissions);
    });
  };
}
