import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { z } from "zod";
import { EmojiService } from "@chorus/contracts/chorus/api/v1/emojis_pb";
import { validate } from "./accounts/account-rules.js";
import type { Accounts, Session } from "./accounts/accounts.js";
import { emojiName } from "./emojis/emoji-rules.js";
import type { Emojis } from "./emojis/emojis.js";
import { answer, callerSession } from "./guild-rpc.js";

const nameSchema = z.object({ name: emojiName() });

/**
 * chorus.api.v1.EmojiService: the custom emoji API of first-party clients, over the same
 * Emojis logic as the Discord routes (the image as bytes rather than a data URI).
 */
export function emojiRpcRoutes(accounts: Accounts, emojis: Emojis) {
  const session = (ctx: HandlerContext): Promise<Session> => callerSession(accounts, ctx);

  return (router: ConnectRouter) =>
    router.service(EmojiService, {
      listEmojis: (req, ctx) => answer(async () => ({ emojis: (await emojis.list((await session(ctx)).userId, req.guildId)).emojis })),

      getEmoji: (req, ctx) => answer(async () => ({ emoji: (await emojis.get((await session(ctx)).userId, req.guildId, req.emojiId)).emoji })),

      createEmoji: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const { name } = validate(nameSchema, { name: req.name });
          return { emoji: await emojis.create(caller.userId, req.guildId, { name, image: { bytes: req.image }, roleIds: req.roleIds }) };
        }),

      modifyEmoji: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const name = req.name === undefined ? undefined : validate(nameSchema, { name: req.name }).name;
          const emoji = await emojis.modify(caller.userId, req.guildId, req.emojiId, { name, roleIds: req.setRoleIds ? req.roleIds : undefined });
          return { emoji };
        }),

      deleteEmoji: (req, ctx) =>
        answer(async () => {
          await emojis.delete((await session(ctx)).userId, req.guildId, req.emojiId);
          return {};
        }),
    });
}
