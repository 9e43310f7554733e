import type { FastifyInstance } from "fastify";
import { validate } from "../../accounts/account-rules.js";
import {
  createChannelSchema,
  createPrivateChannelSchema,
  modifyChannelSchema,
  putOverwriteSchema,
  reorderChannelsSchema,
} from "../../guilds/guild-rules.js";
import { resultOf } from "../../guilds/guilds.js";
import { discordChannel, discordGuildChannel, usersOfChannel } from "@chorus/discord-json/channels";
import { requireSession } from "../auth.js";
import { createChannelCommand, modifyChannelCommand, overwriteInit } from "../guild-requests.js";
import { pathSnowflake, pathSnowflakes } from "../path-ids.js";
import { lookUpUsers } from "../user-lookup.js";
import { ICON_BODY_LIMIT, type GuildRouteDependencies } from "./guilds.js";

type GuildParams = { Params: { guild_id: string } };
type ChannelParams = { Params: { channel_id: string } };

/**
 * Discord's channel routes: a guild's channels (list, create, reorder), any channel by id
 * (get, modify, delete), permission overwrites, private channels (POST /users/@me/channels)
 * and group DM recipients.
 */
export function channelRoutes({ accounts, guilds }: GuildRouteDependencies) {
  /** A channel's JSON as the caller sees it, with the users it names. */
  const render = async (channel: Parameters<typeof discordChannel>[0], viewerId: bigint) =>
    discordChannel(channel, viewerId, await lookUpUsers(accounts, usersOfChannel(channel)));

  return async (app: FastifyInstance) => {
    app.get<GuildParams>("/guilds/:guild_id/channels", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const { channels } = await guilds.getGuild(session.userId, guildId);
      return channels.map(discordGuildChannel);
    });

    app.post<GuildParams>("/guilds/:guild_id/channels", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const body = validate(createChannelSchema, request.body ?? {});
      const channel = resultOf(await guilds.execute(session.userId, guildId, createChannelCommand(guildId, body)), "channel");
      return reply.code(201).send(discordGuildChannel(channel));
    });

    app.patch<GuildParams>("/guilds/:guild_id/channels", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const positions = validate(reorderChannelsSchema, request.body).map((entry) => ({
        channelId: entry.id,
        position: entry.position ?? undefined,
        // null takes a channel out of its category: parent 0.
        parentId: entry.parent_id === undefined ? undefined : entry.parent_id ?? 0n,
        lockPermissions: entry.lock_permissions ?? false,
      }));
      await guilds.execute(session.userId, guildId, { command: { case: "reorderChannels", value: { positions } } });
      return reply.code(204).send();
    });

    app.get<ChannelParams>("/channels/:channel_id", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const { channel } = await guilds.getChannel(session.userId, channelId);
      return render(channel, session.userId);
    });

    app.patch<ChannelParams>("/channels/:channel_id", { bodyLimit: ICON_BODY_LIMIT }, async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const body = validate(modifyChannelSchema, request.body ?? {});
      const result = await guilds.executeOnChannel(session.userId, channelId, modifyChannelCommand(channelId, body));
      return render(resultOf(result, "channel"), session.userId);
    });

    // Deleting a guild channel, closing a DM or leaving a group DM: the channel as it was.
    app.delete<ChannelParams>("/channels/:channel_id", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const result = await guilds.executeOnChannel(session.userId, channelId, { command: { case: "deleteChannel", value: { channelId } } });
      return render(resultOf(result, "channel"), session.userId);
    });

    app.put<{ Params: { channel_id: string; overwrite_id: string } }>("/channels/:channel_id/permissions/:overwrite_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const body = validate(putOverwriteSchema, request.body ?? {});
      const overwrite = overwriteInit({ ...body, id: ids.overwrite_id });
      await guilds.executeOnChannel(session.userId, ids.channel_id, {
        command: { case: "putChannelOverwrite", value: { channelId: ids.channel_id, overwrite } },
      });
      return reply.code(204).send();
    });

    app.delete<{ Params: { channel_id: string; overwrite_id: string } }>("/channels/:channel_id/permissions/:overwrite_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await guilds.executeOnChannel(session.userId, ids.channel_id, {
        command: { case: "deleteChannelOverwrite", value: { channelId: ids.channel_id, overwriteId: ids.overwrite_id } },
      });
      return reply.code(204).send();
    });

    app.post("/users/@me/channels", async (request) => {
      const session = await requireSession(accounts, request);
      const body = validate(createPrivateChannelSchema, request.body ?? {});
      const channel = await guilds.openPrivateChannel(session.userId, body.recipients, body.name);
      return render(channel, session.userId);
    });

    app.put<{ Params: { channel_id: string; user_id: string } }>("/channels/:channel_id/recipients/:user_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await guilds.requireUsers([ids.user_id]);
      await guilds.executeOnChannel(session.userId, ids.channel_id, { command: { case: "addRecipient", value: { userId: ids.user_id } } });
      return reply.code(204).send();
    });

    app.delete<{ Params: { channel_id: string; user_id: string } }>("/channels/:channel_id/recipients/:user_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await guilds.executeOnChannel(session.userId, ids.channel_id, { command: { case: "removeRecipient", value: { userId: ids.user_id } } });
      return reply.code(204).send();
    });
  };
}
