import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { WebhookService } from "@chorus/contracts/chorus/api/v1/webhooks_pb";
import { WebhookSchema, type Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import { InvalidFieldsError, fieldError } from "./accounts/account-errors.js";
import type { Accounts } from "./accounts/accounts.js";
import { answer, callerSession } from "./guild-rpc.js";
import { bodyOfMessage } from "./messages/message-rules.js";
import { createWebhookBody, executeWebhookMessage, modifyWebhookBody } from "./webhooks/webhook-rules.js";
import type { WebhookAuthority, Webhooks } from "./webhooks/webhooks.js";

const UPDATABLE_PATHS = ["name", "avatar", "channel_id"] as const;

/**
 * A webhook as clients get it: never its token hash; its token (when stored) stays, as every
 * caller here has MANAGE_WEBHOOKS or the token (Discord shows it to both).
 */
const published = (webhook: Webhook): Webhook => create(WebhookSchema, { ...webhook, tokenHash: new Uint8Array() });

/**
 * chorus.api.v1.WebhookService: the webhook API of first-party clients, on the same Webhooks
 * logic and rules as the Discord routes. Calls with a `token` need no Authorization.
 */
export function webhookRpcRoutes(accounts: Accounts, webhooks: Webhooks) {
  const authority = async (token: string, ctx: HandlerContext): Promise<WebhookAuthority> =>
    token !== "" ? { token } : { session: await callerSession(accounts, ctx) };

  return (router: ConnectRouter) =>
    router.service(WebhookService, {
      createWebhook: (req, ctx) =>
        answer(async () => {
          const session = await callerSession(accounts, ctx);
          const input = createWebhookBody({ name: req.name, ...(req.avatar !== undefined ? { avatar: req.avatar } : {}) });
          const { webhook, token } = await webhooks.create(session, req.channelId, input);
          return { webhook: published(webhook), token };
        }),

      listWebhooks: (req, ctx) =>
        answer(async () => {
          const session = await callerSession(accounts, ctx);
          if ((req.guildId === 0n) === (req.channelId === 0n)) throw new InvalidFieldsError([fieldError("guild_id", "BASE_TYPE_REQUIRED", "Name a guild_id or a channel_id.")]);
          const list = req.channelId !== 0n ? await webhooks.listForChannel(session, req.channelId) : await webhooks.listForGuild(session, req.guildId);
          return { webhooks: list.map(published) };
        }),

      getWebhook: (req, ctx) => answer(async () => ({ webhook: published(await webhooks.get(req.webhookId, await authority(req.token, ctx))) })),

      updateWebhook: (req, ctx) =>
        answer(async () => {
          const paths = req.updateMask?.paths ?? [];
          const unknown = paths.filter((p) => !(UPDATABLE_PATHS as readonly string[]).includes(p));
          if (unknown.length > 0) throw new InvalidFieldsError([fieldError("update_mask", "BASE_TYPE_CHOICES", `cannot update ${unknown.join(", ")}`)]);
          const body: Record<string, unknown> = {};
          if (paths.includes("name")) body.name = req.name;
          if (paths.includes("avatar")) body.avatar = req.avatar ?? null;
          if (paths.includes("channel_id")) {
            if (req.token !== "") throw new InvalidFieldsError([fieldError("channel_id", "BASE_TYPE_CHOICES", "A token cannot move a webhook.")]);
            body.channel_id = req.channelId.toString();
          }
          const who = await authority(req.token, ctx);
          return { webhook: published(await webhooks.modify(req.webhookId, who, modifyWebhookBody(body))) };
        }),

      deleteWebhook: (req, ctx) =>
        answer(async () => {
          await webhooks.remove(req.webhookId, await authority(req.token, ctx));
          return {};
        }),

      executeWebhook: (req) =>
        answer(async () => {
          const webhook = await webhooks.withToken(req.webhookId, req.token);
          if (!req.message) throw new InvalidFieldsError([fieldError("message", "BASE_TYPE_REQUIRED", "This field is required")]);
          const body = {
            ...bodyOfMessage(req.message, req.allowedMentions),
            ...(req.username !== "" ? { username: req.username } : {}),
            ...(req.avatarUrl !== "" ? { avatar_url: req.avatarUrl } : {}),
          };
          const send = executeWebhookMessage(body, webhook.channelId, [], webhook.applicationId !== 0n);
          return { message: await webhooks.execute(webhook, req.token, send) };
        }),
    });
}
