import type { ConnectRouter } from "@connectrpc/connect";
import { MessageService } from "@chorus/contracts/chorus/api/v1/messages_pb";
import type { EditMessage, MessageCommand } from "@chorus/contracts/chorus/chat/v1/message_commands_pb";
import { publicProfile } from "@chorus/discord-json/user-flags";
import { InvalidFieldsError, fieldError } from "./accounts/account-errors.js";
import type { Accounts } from "./accounts/accounts.js";
import { lookUpUsers } from "./discord/user-lookup.js";
import { answer, callerSession } from "./guild-rpc.js";
import { bodyOfMessage, bulkDeleteIds, editMessageCommand, sendMessageCommand } from "./messages/message-rules.js";
import { normalizeEmoji, type HistoryAnchor, type MessageCommandInit, type Messages } from "./messages/messages.js";

/** What an EditMessage may name in its update mask, with the Discord body field each stands for. */
const EDITABLE_PATHS = ["content", "embeds", "components", "flags", "attachments"] as const;

const required = (field: string) => new InvalidFieldsError([fieldError(field, "BASE_TYPE_REQUIRED", "This field is required")]);

/** A Connect EditMessage as the Discord PATCH body it stands for: the masked fields only. */
function editBody(edit: EditMessage): Record<string, unknown> {
  const paths = edit.updateMask?.paths ?? [];
  const unknown = paths.filter((path) => !(EDITABLE_PATHS as readonly string[]).includes(path));
  if (unknown.length > 0) throw new InvalidFieldsError([fieldError("update_mask", "BASE_TYPE_CHOICES", `cannot update ${unknown.join(", ")}`)]);
  if (paths.length === 0) throw required("update_mask");
  const body = edit.message ? bodyOfMessage(edit.message, edit.allowedMentions) : {};
  const edited: Record<string, unknown> = Object.fromEntries(paths.map((path) => [path, body[path] ?? []]));
  if (body.allowed_mentions) edited.allowed_mentions = body.allowed_mentions;
  return edited;
}

/**
 * The command as the channel's owner receives it: messages checked by the same rules as the
 * Discord routes (mentions parsed from the content), emoji normalized, bulk deletes bounded.
 */
function checkedCommand(command: MessageCommand["command"], channelId: bigint): MessageCommandInit {
  switch (command.case) {
    case "sendMessage": {
      const send = command.value;
      if (!send.message) throw required("message");
      return { command: { case: "sendMessage", value: sendMessageCommand(bodyOfMessage(send.message, send.allowedMentions), channelId) } };
    }
    case "editMessage":
      return { command: { case: "editMessage", value: editMessageCommand(editBody(command.value), command.value.messageId) } };
    case "bulkDeleteMessages":
      return { command: { case: "bulkDeleteMessages", value: { messageIds: bulkDeleteIds({ messages: command.value.messageIds.map(String) }) } } };
    case "addReaction":
    case "removeReaction":
    case "removeAllReactions":
      // RemoveAllReactions without an emoji removes them all.
      if (command.value.emoji !== undefined) command.value.emoji = normalizeEmoji(command.value.emoji);
      return { command };
    case "sendWebhookMessage":
    case "editWebhookMessage":
    case "deleteWebhookMessage":
      // A webhook's messages go through WebhookService (its token, its rules).
      throw new InvalidFieldsError([fieldError("command", "BASE_TYPE_CHOICES", "webhook messages go through WebhookService")]);
    case undefined:
      throw required("command");
    default:
      return { command };
  }
}

/**
 * chorus.api.v1.MessageService: the message API of first-party clients, on the same Messages
 * logic and message rules as the Discord routes. `Authorization: Bearer <token>` (a person) or
 * `Bot <token>` (a bot).
 */
export function messageRpcRoutes(accounts: Accounts, messages: Messages) {
  return (router: ConnectRouter) =>
    router.service(MessageService, {
      execute: (req, ctx) =>
        answer(async () => {
          const caller = await callerSession(accounts, ctx);
          if (!req.command?.command.case) throw required("command");
          const command = checkedCommand(req.command.command, req.channelId);
          return { result: await messages.execute(caller.userId, req.channelId, command) };
        }),

      listMessages: (req, ctx) =>
        answer(async () => {
          const caller = await callerSession(accounts, ctx);
          if (req.limit > 100) throw new InvalidFieldsError([fieldError("limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")]);
          const anchor: HistoryAnchor = req.anchor.case ? ({ [req.anchor.case]: req.anchor.value } as HistoryAnchor) : {};
          return { messages: await messages.list(caller.userId, req.channelId, anchor, req.limit || undefined) };
        }),

      getMessage: (req, ctx) =>
        answer(async () => {
          const caller = await callerSession(accounts, ctx);
          return { message: await messages.get(caller.userId, req.channelId, req.messageId) };
        }),

      listPinnedMessages: (req, ctx) =>
        answer(async () => {
          const caller = await callerSession(accounts, ctx);
          return { messages: await messages.pins(caller.userId, req.channelId) };
        }),

      listReactionUsers: (req, ctx) =>
        answer(async () => {
          const caller = await callerSession(accounts, ctx);
          if (req.limit > 100) throw new InvalidFieldsError([fieldError("limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")]);
          const userIds = await messages.reactionUsers(caller.userId, req.channelId, req.messageId, req.emoji, req.after, req.limit || undefined);
          const users = await lookUpUsers(accounts, userIds);
          return { users: userIds.map((id) => publicProfile(users(id))) };
        }),
    });
}
