import type { FastifyInstance } from "fastify";
import type { Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import { discordEmoji } from "@chorus/discord-json/emojis";
import { validate } from "../../accounts/account-rules.js";
import type { Accounts } from "../../accounts/accounts.js";
import { createEmojiSchema, modifyEmojiSchema } from "../../emojis/emoji-rules.js";
import type { Emojis } from "../../emojis/emojis.js";
import { requireSession } from "../auth.js";
import { pathSnowflake, pathSnowflakes } from "../path-ids.js";
import { lookUpUsers } from "../user-lookup.js";

type GuildParams = { Params: { guild_id: string } };
type EmojiParams = { Params: { guild_id: string; emoji_id: string } };

export interface EmojiRouteDependencies {
  accounts: Accounts;
  emojis: Emojis;
}

/** Room for a 256 KiB image as a base64 data URI and the other fields. */
const EMOJI_BODY_LIMIT = 512 * 1024;

/** Discord's guild emoji routes: list, get, create, modify, delete. */
export function emojiRoutes({ accounts, emojis }: EmojiRouteDependencies) {
  /** Emoji objects; `user` (the uploader) only for callers with MANAGE_GUILD_EXPRESSIONS, as Discord. */
  const render = async (list: readonly Emoji[], showsUploaders: boolean) => {
    const users = showsUploaders ? await lookUpUsers(accounts, list.map((e) => e.userId)) : undefined;
    return list.map((e) => discordEmoji(e, users));
  };

  return async (app: FastifyInstance) => {
    app.get<GuildParams>("/guilds/:guild_id/emojis", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const { emojis: list, showsUploaders } = await emojis.list(session.userId, guildId);
      return render(list, showsUploaders);
    });

    app.get<EmojiParams>("/guilds/:guild_id/emojis/:emoji_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const { emoji, showsUploaders } = await emojis.get(session.userId, ids.guild_id, ids.emoji_id);
      return (await render([emoji], showsUploaders))[0];
    });

    app.post<GuildParams>("/guilds/:guild_id/emojis", { bodyLimit: EMOJI_BODY_LIMIT }, async (request, reply) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const body = validate(createEmojiSchema, request.body ?? {});
      const emoji = await emojis.create(session.userId, guildId, { name: body.name, image: { dataUri: body.image }, roleIds: body.roles ?? [] });
      // The creator is shown: they hold CREATE or MANAGE_GUILD_EXPRESSIONS.
      return reply.code(201).send((await render([emoji], true))[0]);
    });

    app.patch<EmojiParams>("/guilds/:guild_id/emojis/:emoji_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const body = validate(modifyEmojiSchema, request.body ?? {});
      const roleIds = body.roles === undefined ? undefined : (body.roles ?? []);
      const emoji = await emojis.modify(session.userId, ids.guild_id, ids.emoji_id, { name: body.name, roleIds });
      return (await render([emoji], true))[0];
    });

    app.delete<EmojiParams>("/guilds/:guild_id/emojis/:emoji_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await emojis.delete(session.userId, ids.guild_id, ids.emoji_id);
      return reply.code(204).send();
    });
  };
}
