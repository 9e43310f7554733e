import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { JsonObject } from "@bufbuild/protobuf";
import { InvalidFieldsError, type FieldError } from "../accounts/account-errors.js";
import { validate } from "../accounts/account-rules.js";
import { avatarHash } from "../accounts/avatars.js";
import type { UploadedFile } from "../attachments/attachment-files.js";
import { snowflake, text } from "../guilds/guild-rules.js";
import { formIssue, isDict } from "../messages/form-schemas.js";
import { editMessageCommand, sendMessageCommand, type EditMessageInit, type SendMessageInit } from "../messages/message-rules.js";
import { ButtonStyle, ComponentType } from "../messages/components.js";

/**
 * Discord's rules for webhooks: names (1-80 characters, never "clyde" or "discord" in any
 * case, as Discord refuses them), avatars (data URIs, kept as their hash), tokens, and the
 * bodies of Execute Webhook (a message body plus `username` / `avatar_url`), checked by the
 * same message rules as POST /channels/:id/messages.
 */

export const WEBHOOK_LIMITS = { name: 80, avatarUrl: 2048, perChannel: 15 } as const;
/** Substrings Discord refuses in webhook names and username overrides. */
const FORBIDDEN_NAME_PARTS = ["clyde", "discord"] as const;

/** A webhook name or username override: 1-80 characters without Discord's forbidden words. */
export const webhookName = () =>
  text(1, WEBHOOK_LIMITS.name).superRefine((value, ctx) => {
    const lower = value.toLowerCase();
    for (const part of FORBIDDEN_NAME_PARTS) {
      if (lower.includes(part)) formIssue(ctx, [], "USERNAME_INVALID_CONTAINS", `Username cannot contain "${part}"`);
    }
  });

const avatarDataUri = () => z.string().nullish();

export const createWebhookSchema = z.object({ name: webhookName(), avatar: avatarDataUri() });
export const modifyWebhookSchema = z.object({ name: webhookName().optional(), avatar: avatarDataUri(), channel_id: snowflake().optional() });

/** What a webhook change names: the fields present, avatars turned into their hash (null clears). */
export interface WebhookChanges {
  name?: string;
  /** undefined: unchanged; null: cleared. */
  avatar?: string | null;
  channelId?: bigint;
}

export function createWebhookBody(body: unknown): { name: string; avatar?: string } {
  const input = validate(createWebhookSchema, body ?? {});
  return { name: input.name, ...(input.avatar ? { avatar: avatarHash(input.avatar) } : {}) };
}

export function modifyWebhookBody(body: unknown): WebhookChanges {
  const input = validate(modifyWebhookSchema, body ?? {});
  const changes: WebhookChanges = {};
  if (input.name !== undefined) changes.name = input.name;
  if (isDict(body) && "avatar" in body) changes.avatar = input.avatar ? avatarHash(input.avatar) : null;
  if (input.channel_id !== undefined) changes.channelId = input.channel_id;
  return changes;
}

/** A fresh token: 68 URL-safe characters (51 random bytes), Discord's shape. */
export function newWebhookToken(): string {
  return randomBytes(51).toString("base64url");
}

/** What requests are verified against (storage keeps it beside the token). */
export function webhookTokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token).digest());
}

/** Discord's token alphabet and a sane bound: anything else cannot be a token (50027 without a look-up). */
export const isTokenShaped = (token: string) => /^[A-Za-z0-9_.-]{1,200}$/.test(token);

const executeExtrasSchema = z.object({
  username: webhookName().nullish(),
  avatar_url: text(1, WEBHOOK_LIMITS.avatarUrl)
    .superRefine((value, ctx) => {
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) formIssue(ctx, [], "URL_TYPE_INVALID_URL", "Not a well formed URL.");
    })
    .nullish(),
});

/**
 * Interactive components need an application behind the webhook (its interactions go to the
 * application): a plain webhook may send link buttons only. Named by their path.
 */
function requireLinkButtonsOnly(components: readonly JsonObject[]): void {
  const errors: FieldError[] = [];
  components.forEach((row, rowIndex) => {
    const children = Array.isArray(row.components) ? (row.components as JsonObject[]) : [];
    children.forEach((child, index) => {
      if (child.type === ComponentType.Button && child.style === ButtonStyle.Link) return;
      errors.push({
        path: ["components", String(rowIndex), "components", String(index)],
        code: "COMPONENT_VALIDATION_FAILED",
        message: "Only link buttons may be sent by a webhook that no application owns.",
      });
    });
  });
  if (errors.length > 0) throw new InvalidFieldsError(errors);
}

/** Fields of a message body webhooks do not have (replies, stickers, nonces): dropped, as Discord ignores them. */
function webhookMessageBody(body: unknown): unknown {
  if (!isDict(body)) return body;
  const { message_reference: _reference, sticker_ids: _stickers, nonce: _nonce, enforce_nonce: _enforce, username: _username, avatar_url: _avatar, ...rest } = body;
  return rest;
}

/**
 * POST /webhooks/:id/:token → SendWebhookMessage's message and allowed mentions: the message
 * rules of a post, then the webhook's own (overrides, link buttons unless `application`).
 */
export function executeWebhookMessage(body: unknown, channelId: bigint, files: readonly UploadedFile[], application: boolean): SendMessageInit {
  const extras = validate(executeExtrasSchema, isDict(body) ? body : {});
  const send = sendMessageCommand(webhookMessageBody(body), channelId, files);
  if (!application) requireLinkButtonsOnly((send.message?.components ?? []) as JsonObject[]);
  // sendMessageCommand always builds the message; the overrides ride on it.
  Object.assign(send.message!, { authorUsernameOverride: extras.username ?? "", authorAvatarOverride: extras.avatar_url ?? "" });
  return send;
}

/** PATCH /webhooks/:id/:token/messages/:message_id → the edit, with the webhook's component rule. */
export function editWebhookMessage(body: unknown, messageId: bigint, files: readonly UploadedFile[], currentAttachmentIds: readonly bigint[], application: boolean): EditMessageInit {
  const edit = editMessageCommand(body, messageId, files, currentAttachmentIds);
  if (!application) requireLinkButtonsOnly((edit.message?.components ?? []) as JsonObject[]);
  return edit;
}
