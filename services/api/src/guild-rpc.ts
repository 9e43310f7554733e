import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { GuildService } from "@chorus/contracts/chorus/api/v1/guilds_pb";
import type { GuildCommand } from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { InvalidFieldsError, UnauthorizedError, fieldError } from "./accounts/account-errors.js";
import type { Accounts, Session } from "./accounts/accounts.js";
import { parseAuthorization } from "./discord/auth.js";
import { GuildRequestError, RateLimitedError, toConnectFieldsError, toConnectGuildError } from "./guilds/guild-errors.js";
import type { Guilds } from "./guilds/guilds.js";
import type { Emojis } from "./emojis/emojis.js";

/** Guild errors as the contract promises them (Connect code and ErrorReason detail); others as they are. */
function toConnectError(err: unknown): unknown {
  if (err instanceof GuildRequestError) return toConnectGuildError(err);
  if (err instanceof InvalidFieldsError) return toConnectFieldsError(err);
  if (err instanceof UnauthorizedError) return new ConnectError(`authorization: ${err.message}`, Code.Unauthenticated);
  if (err instanceof RateLimitedError) {
    return new ConnectError(`retry after ${err.retryAfter} s`, Code.ResourceExhausted, undefined, [{ desc: ErrorReasonSchema, value: { code: err.discordCode, retryAfter: err.retryAfter } }]);
  }
  return err;
}

/** Runs a handler of the guild or message API, answering its errors as the contracts promise. */
export async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toConnectError(err);
  }
}

/** The id a command is about when it is addressed by channel: the channel's. */
function channelOf(command: GuildCommand["command"]): bigint | undefined {
  switch (command.case) {
    case "modifyChannel":
      return command.value.channel?.id ?? 0n;
    case "deleteChannel":
    case "putChannelOverwrite":
    case "deleteChannelOverwrite":
    case "createInvite":
      return command.value.channelId;
    default:
      return undefined;
  }
}

/** The caller of a Connect call: `Authorization: Bearer <token>` (a person) or `Bot <token>` (a bot). */
export function callerSession(accounts: Accounts, ctx: HandlerContext): Promise<Session> {
  const credentials = parseAuthorization(ctx.requestHeader.get("authorization") ?? undefined);
  // A bare token is how Discord's clients send it; on Connect the scheme is required.
  if (!credentials || !/^(bearer|bot)\s/i.test(ctx.requestHeader.get("authorization") ?? "")) {
    throw new UnauthorizedError("missing Bearer or Bot token");
  }
  return accounts.authenticate(credentials.token, credentials.kinds);
}

const required = (field: string) => new InvalidFieldsError([fieldError(field, "BASE_TYPE_REQUIRED", "This field is required")]);

/**
 * chorus.api.v1.GuildService: the guild API of first-party clients, a thin layer over the
 * same Guilds logic as the Discord routes. `Authorization: Bearer <token>` (a person) or
 * `Bot <token>` (a bot).
 */
export function guildRpcRoutes(accounts: Accounts, guilds: Guilds, emojis: Pick<Emojis, "deleteGuild">) {
  const session = (ctx: HandlerContext): Promise<Session> => callerSession(accounts, ctx);

  return (router: ConnectRouter) =>
    router.service(GuildService, {
      execute: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const command = req.command?.command;
          if (!command?.case) throw required("command");
          switch (command.case) {
            case "createGuild":
              return { result: { result: { case: "guild", value: await guilds.createGuild(caller.userId, command.value) } } };
            case "createPrivateChannel": {
              const channel = await guilds.openPrivateChannel(caller.userId, command.value.recipientIds, command.value.name);
              return { result: { result: { case: "channel", value: channel } } };
            }
            case "acceptInvite":
            case "deleteInvite":
              return { result: await guilds.executeOnInvite(caller.userId, command.value.code, req.command!) };
            case "addBot":
              // Adding a bot is the bot's owner's consent too: ApplicationService.AuthorizeBot
              // (Discord's OAuth2 flow) checks it; a bare AddBot could pull anyone into a guild.
              throw new InvalidFieldsError([fieldError("command", "BASE_TYPE_CHOICES", "add_bot goes through ApplicationService.AuthorizeBot")]);
            case "deleteGuild":
              // The guild's emojis' images go with it.
              if (req.guildId === 0n) throw required("guild_id");
              await emojis.deleteGuild(caller.userId, req.guildId);
              return { result: { result: { case: "removed", value: { removed: true } } } };
            case "createEmoji":
            case "modifyEmoji":
            case "deleteEmoji":
              // An emoji's image is the edge's to store and delete along with it.
              throw new InvalidFieldsError([fieldError("command", "BASE_TYPE_CHOICES", `${command.case} goes through EmojiService`)]);
            case "createWebhook":
            case "modifyWebhook":
            case "deleteWebhook":
              // Names, avatars and tokens are checked (and tokens minted) by WebhookService.
              throw new InvalidFieldsError([fieldError("command", "BASE_TYPE_CHOICES", "webhooks go through WebhookService")]);
            case "createBan":
            case "addRecipient":
              await guilds.requireUsers([command.value.userId]);
              break;
          }
          const channelId = channelOf(command);
          if (req.guildId === 0n && channelId === undefined) throw required("guild_id");
          if (req.guildId === 0n) return { result: await guilds.executeOnChannel(caller.userId, channelId!, req.command!) };
          return { result: await guilds.execute(caller.userId, req.guildId, req.command!) };
        }),

      listMyGuilds: (_req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const views = await guilds.myGuilds(caller.userId, { limit: 1000 });
          return { guilds: views.map((view) => view.guild!) };
        }),

      getGuild: (req, ctx) =>
        answer(async () => {
          const view = await guilds.getGuild((await session(ctx)).userId, req.guildId);
          return { guild: view.guild, roles: view.roles, channels: view.channels, memberCount: view.memberCount, permissions: view.permissions };
        }),

      getChannel: (req, ctx) => answer(async () => ({ channel: (await guilds.getChannel((await session(ctx)).userId, req.channelId)).channel })),

      listMembers: (req, ctx) =>
        answer(async () => ({ members: await guilds.listMembers((await session(ctx)).userId, req.guildId, req.afterUserId, req.limit) })),

      listBans: (req, ctx) => answer(async () => ({ bans: await guilds.listBans((await session(ctx)).userId, req.guildId) })),

      getInvite: (req, ctx) =>
        answer(async () => {
          await session(ctx);
          const found = await guilds.getInvite(req.code);
          return { invite: found.invite, guild: found.guild, channel: found.channel, memberCount: found.memberCount };
        }),
    });
}
