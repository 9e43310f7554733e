import type { FastifyInstance } from "fastify";
import type { Channel, Invite } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { validate } from "../../accounts/account-rules.js";
import { createInviteSchema, queryFlag } from "../../guilds/guild-rules.js";
import { resultOf, type Guilds } from "../../guilds/guilds.js";
import { requireSession } from "../auth.js";
import { discordInvite, discordInviteWithMetadata, type InviteContext } from "@chorus/discord-json/invites";
import { pathSnowflake } from "../path-ids.js";
import { lookUpUsers } from "../user-lookup.js";
import type { GuildRouteDependencies } from "./guilds.js";

type CodeParams = { Params: { code: string }; Querystring: Record<string, unknown> };

/**
 * The guild and channel of each of a guild's invites, as its manager sees them: one GetGuild
 * for all; an invite to a channel the caller cannot see is looked up by its code.
 */
async function contextsOf(guilds: Guilds, actorId: bigint, guildId: bigint, invites: readonly Invite[]): Promise<InviteContext[]> {
  if (invites.length === 0) return [];
  const view = await guilds.getGuild(actorId, guildId);
  const channels = new Map<bigint, Channel>(view.channels.map((c) => [c.id, c]));
  return Promise.all(
    invites.map(async (invite) => {
      const channel = channels.get(invite.channelId);
      if (channel) return { guild: view.guild!, channel };
      const found = await guilds.getInvite(invite.code);
      return { guild: found.guild!, channel: found.channel! };
    }),
  );
}

/** Discord's invite routes: a channel's or a guild's invites, and an invite by its code (look up, accept, revoke). */
export function inviteRoutes({ accounts, guilds }: GuildRouteDependencies) {
  const withMetadata = async (actorId: bigint, guildId: bigint, invites: Invite[]) => {
    const [contexts, users] = await Promise.all([
      contextsOf(guilds, actorId, guildId, invites),
      lookUpUsers(accounts, invites.map((i) => i.inviterId).filter((id) => id !== 0n)),
    ]);
    return invites.map((invite, i) => discordInviteWithMetadata(invite, contexts[i], users));
  };

  /** An invite by its code as anyone sees it, with counts when asked. */
  const publicInvite = async (code: string, withCounts: boolean) => {
    const found = await guilds.getInvite(code);
    const users = await lookUpUsers(accounts, found.invite!.inviterId !== 0n ? [found.invite!.inviterId] : []);
    const counts = withCounts ? { members: found.memberCount, online: found.onlineCount } : undefined;
    return discordInvite(found.invite!, { guild: found.guild!, channel: found.channel!, counts }, users);
  };

  return async (app: FastifyInstance) => {
    app.get<{ Params: { channel_id: string } }>("/channels/:channel_id/invites", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const guildId = await guilds.ownerOfChannel(channelId);
      return withMetadata(session.userId, guildId, await guilds.listInvites(session.userId, { guildId, channelId }));
    });

    app.post<{ Params: { channel_id: string } }>("/channels/:channel_id/invites", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const body = validate(createInviteSchema, request.body ?? {});
      const guildId = await guilds.ownerOfChannel(channelId);
      const result = await guilds.execute(session.userId, guildId, {
        command: {
          case: "createInvite",
          value: {
            channelId,
            maxAge: body.max_age ?? undefined,
            maxUses: body.max_uses ?? 0,
            temporary: body.temporary ?? false,
            unique: body.unique ?? false,
          },
        },
      });
      const [invite] = await withMetadata(session.userId, guildId, [resultOf(result, "invite")]);
      return invite;
    });

    app.get<{ Params: { guild_id: string } }>("/guilds/:guild_id/invites", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      return withMetadata(session.userId, guildId, await guilds.listInvites(session.userId, { guildId }));
    });

    app.get<CodeParams>("/invites/:code", async (request) => {
      await requireSession(accounts, request);
      return publicInvite(request.params.code, queryFlag(request.query.with_counts));
    });

    // Accepting, as Discord's client does: the invite, after the caller joined. It is read
    // first: an invite whose last use this was is gone afterwards.
    app.post<CodeParams>("/invites/:code", async (request) => {
      const session = await requireSession(accounts, request);
      const code = request.params.code;
      const invite = await publicInvite(code, false);
      await guilds.execute(session.userId, BigInt(invite.guild_id), { command: { case: "acceptInvite", value: { code } } });
      return invite;
    });

    // Revoking: the invite as it was.
    app.delete<CodeParams>("/invites/:code", async (request) => {
      const session = await requireSession(accounts, request);
      const code = request.params.code;
      const found = await guilds.getInvite(code);
      const guildId = found.invite!.guildId;
      await guilds.execute(session.userId, guildId, { command: { case: "deleteInvite", value: { code } } });
      const users = await lookUpUsers(accounts, found.invite!.inviterId !== 0n ? [found.invite!.inviterId] : []);
      return discordInviteWithMetadata(found.invite!, { guild: found.guild!, channel: found.channel! }, users);
    });
  };
}
