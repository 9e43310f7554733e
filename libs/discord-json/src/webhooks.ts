import type { APIWebhook, WebhookType } from "discord-api-types/v10";
import type { Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import type { UserLookup } from "./guilds.js";
import { discordUser } from "./users.js";

export interface WebhookRenderOptions {
  /** Its creator, shown as `user` (left out for token requests, as Discord does). */
  users?: UserLookup;
  /**
   * Show the webhook's token: only to callers with MANAGE_WEBHOOKS or the token itself, as
   * Discord does. A webhook from before tokens were stored has none to show.
   */
  token?: boolean;
}

/** Discord's webhook object. */
export function discordWebhook(webhook: Webhook, options: WebhookRenderOptions = {}): APIWebhook {
  return {
    id: webhook.id.toString(),
    type: (webhook.type || 1) as WebhookType,
    guild_id: webhook.guildId.toString(),
    channel_id: webhook.channelId.toString(),
    ...(options.users && webhook.creatorId !== 0n ? { user: discordUser(options.users(webhook.creatorId)) } : {}),
    name: webhook.name,
    avatar: webhook.avatar ?? null,
    application_id: webhook.applicationId === 0n ? null : webhook.applicationId.toString(),
    ...(options.token && webhook.token !== "" ? { token: webhook.token } : {}),
  };
}
