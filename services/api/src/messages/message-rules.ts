import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { MessageFlags, RESTJSONErrorCodes } from "discord-api-types/v10";
import { z } from "zod";
import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import type { AllowedMentions as AllowedMentionsMessage, EditMessageSchema, SendMessageSchema } from "@chorus/contracts/chorus/chat/v1/message_commands_pb";
import { timestampOf } from "@chorus/snowflake";
import { InvalidFieldsError, type FieldError } from "../accounts/account-errors.js";
import { validate } from "../accounts/account-rules.js";
import { ATTACHMENT_LIMITS, AttachmentLimitError, type AttachmentInit, type UploadedFile } from "../attachments/attachment-files.js";
import { bool, choice, int, list, parseSnowflakeValue, snowflake, text } from "../guilds/guild-rules.js";
import { GuildRequestError } from "../guilds/guild-errors.js";
import { componentsSchema } from "./components.js";
import { embedsSchema } from "./embeds.js";
import { boundedList, formIssue, isDict } from "./form-schemas.js";
import { allowedMentionsSchema, applyAllowedMentions, parseMentions, type AllowedMentions } from "./mentions.js";

/**
 * The bodies of Discord's message routes as Discord validates them (50035 naming each bad
 * field), turned into the chorus.chat.v1 message commands the channel's owner executes. The
 * Connect MessageService passes its messages through the same rules (bodyOfMessage), so
 * both APIs accept and refuse the same messages. What needs the channel's state (permissions,
 * slowmode, the replied-to message, mentionable roles) is the owner's to check.
 */

export const MESSAGE_LIMITS = { content: 2000, nonce: 25, stickers: 3, attachments: ATTACHMENT_LIMITS.files, bulkDelete: { min: 2, max: 100 } } as const;
/** Discord's message type of a reply. */
export const REPLY_MESSAGE_TYPE = 19;
/** The flags a sender may set (Discord's; voice messages and components v2 are not in Chorus). */
export const SENDABLE_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications;
/** The flag an edit may change. */
export const EDITABLE_FLAGS = MessageFlags.SuppressEmbeds;
/** Bulk deletes take messages up to two weeks old, as Discord. */
export const BULK_DELETE_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;

export type SendMessageInit = MessageInitShape<typeof SendMessageSchema>;
export type EditMessageInit = MessageInitShape<typeof EditMessageSchema>;

const content = () => text(0, MESSAGE_LIMITS.content);

/** Discord's nonce: an integer or a string of up to 25 characters; kept as a string. */
const nonce = () =>
  z.unknown().transform((value, ctx): string => {
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
    if (typeof value !== "string") {
      formIssue(ctx, [], "BASE_TYPE_STRING", "Must be a string or an integer.");
      return z.NEVER;
    }
    if ([...value].length > MESSAGE_LIMITS.nonce) {
      formIssue(ctx, [], "BASE_TYPE_MAX_LENGTH", `Must be ${MESSAGE_LIMITS.nonce} or fewer in length.`);
      return z.NEVER;
    }
    return value;
  });

/** A flags bitfield of which only `allowed` may be set. */
const flags = (allowed: number) =>
  int(0, 2 ** 31 - 1).superRefine((value, ctx) => {
    if ((value & ~allowed) !== 0) formIssue(ctx, [], "MESSAGE_FLAGS_INVALID", `Only the flags ${allowed} may be set here.`);
  });

const messageReferenceSchema = z.object({
  // Forwards (type 1) are not in Chorus yet.
  type: choice([0]).nullish(),
  message_id: snowflake(),
  channel_id: snowflake().nullish(),
  guild_id: snowflake().nullish(),
  fail_if_not_exists: bool().nullish(),
});

/**
 * An attachment's id in a body: the `n` of a file uploaded as `files[n]` (0 included), or, in
 * an edit, the id of an attachment the message has and keeps.
 */
const attachmentId = () =>
  z.unknown().transform((value, ctx): bigint => {
    if (value === undefined) {
      formIssue(ctx, [], "BASE_TYPE_REQUIRED", "This field is required");
      return z.NEVER;
    }
    if (value === 0 || value === "0") return 0n;
    const id = parseSnowflakeValue(value);
    if (id === undefined) {
      formIssue(ctx, [], "NUMBER_TYPE_COERCE", `Value "${typeof value === "string" ? value : JSON.stringify(value)}" is not snowflake.`);
      return z.NEVER;
    }
    return id;
  });

/** An entry of a body's `attachments`: an uploaded file's filename and description, or an attachment to keep. */
const attachmentEntry = z.object({
  id: attachmentId(),
  filename: text(1, ATTACHMENT_LIMITS.filename).nullish(),
  description: text(0, ATTACHMENT_LIMITS.description).nullish(),
});
type AttachmentEntry = z.infer<typeof attachmentEntry>;

const sendBodySchema = z.object({
  content: content().nullish(),
  nonce: nonce().nullish(),
  enforce_nonce: bool().nullish(),
  tts: bool().nullish(),
  embeds: embedsSchema.nullish(),
  allowed_mentions: allowedMentionsSchema.nullish(),
  message_reference: messageReferenceSchema.nullish(),
  components: componentsSchema.nullish(),
  sticker_ids: list(snowflake(), MESSAGE_LIMITS.stickers)
    .superRefine((ids, ctx) => {
      // Chorus has no stickers yet: no id names one.
      ids.forEach((_, index) => formIssue(ctx, [index], "STICKER_NOT_FOUND", "Unknown sticker"));
    })
    .nullish(),
  attachments: boundedList(attachmentEntry, { max: MESSAGE_LIMITS.attachments }).nullish(),
  flags: flags(SENDABLE_FLAGS).nullish(),
});

const editBodySchema = z.object({
  content: content().nullish(),
  embeds: embedsSchema.nullish(),
  components: componentsSchema.nullish(),
  allowed_mentions: allowedMentionsSchema.nullish(),
  attachments: boundedList(attachmentEntry, { max: MESSAGE_LIMITS.attachments }).nullish(),
  flags: flags(EDITABLE_FLAGS).nullish(),
});

/** The body of a request, where Discord expects a JSON object: a missing body counts as `{}`. */
function dict(body: unknown): unknown {
  return body === undefined || body === null ? {} : body;
}

/** The mentions a message's content makes under `allowed`, as the message's fields. */
function mentionFields(text: string, allowed: AllowedMentions | undefined) {
  const mentions = applyAllowedMentions(parseMentions(text), allowed);
  return { mentions: mentions.users, mentionRoles: mentions.roles, mentionEveryone: mentions.everyone };
}

const allowedMentionsInit = (allowed: AllowedMentions | undefined) =>
  allowed && { parse: allowed.parse, users: allowed.users, roles: allowed.roles, repliedUser: allowed.repliedUser };

/**
 * The attachments a message gets: every uploaded file becomes one (an `attachments` entry with
 * its placeholder id gives its filename and description), in the order of the entries, then
 * the files no entry names. In an edit, the other entries name existing attachments to keep,
 * which the channel's owner looks up in the message; a new message has none, so there they are
 * Discord's ATTACHMENT_NOT_FOUND. `alsoKept`: existing attachments kept without an entry.
 * More than 10 in all: 30015.
 */
function attachmentsOf(entries: readonly AttachmentEntry[], files: readonly UploadedFile[], existing: "keep" | "refuse", alsoKept: readonly bigint[] = []): AttachmentInit[] {
  const byPlaceholder = new Map<bigint, UploadedFile>();
  for (const file of files) if (file.placeholder !== undefined && !byPlaceholder.has(file.placeholder)) byPlaceholder.set(file.placeholder, file);
  const used = new Set<UploadedFile>();
  const kept = new Set<bigint>(alsoKept);
  const attachments: AttachmentInit[] = alsoKept.map((id) => ({ id }));
  const unknown: FieldError[] = [];
  entries.forEach((entry, index) => {
    const file = byPlaceholder.get(entry.id);
    if (file && !used.has(file)) {
      used.add(file);
      attachments.push(file.attachment(entry));
    } else if (existing === "refuse") {
      unknown.push({ path: ["attachments", String(index)], code: "ATTACHMENT_NOT_FOUND", message: "Attachment data not found" });
    } else if (!kept.has(entry.id)) {
      kept.add(entry.id);
      attachments.push({ id: entry.id });
    }
  });
  if (unknown.length > 0) throw new InvalidFieldsError(unknown);
  for (const file of files) if (!used.has(file)) attachments.push(file.attachment());
  if (attachments.length > MESSAGE_LIMITS.attachments) throw AttachmentLimitError.tooMany(["attachments"]);
  return attachments;
}

export const emptyMessage = () => new GuildRequestError(Code.FailedPrecondition, RESTJSONErrorCodes.CannotSendAnEmptyMessage, "Cannot send an empty message");

/**
 * POST /channels/:id/messages → SendMessage: the body (JSON, or a multipart form's
 * payload_json) and the files uploaded with it; 50035 naming each bad field, 50006 when there
 * is nothing to send (files alone are something).
 */
export function sendMessageCommand(body: unknown, channelId: bigint, files: readonly UploadedFile[] = []): SendMessageInit {
  const input = validate(sendBodySchema, dict(body));
  const text = input.content ?? "";
  const embeds = input.embeds ?? [];
  const components = input.components ?? [];
  const attachments = attachmentsOf(input.attachments ?? [], files, "refuse");
  if (text.trim() === "" && embeds.length === 0 && components.length === 0 && (input.sticker_ids ?? []).length === 0 && attachments.length === 0) throw emptyMessage();
  const reference = input.message_reference ?? undefined;
  if (reference?.channel_id && reference.channel_id !== channelId) {
    throw validationError(["message_reference", "channel_id"], "MESSAGE_REFERENCE_INVALID_CHANNEL", "Cannot reply to a message in another channel");
  }
  const allowed = input.allowed_mentions ?? undefined;
  return {
    message: {
      channelId,
      content: text,
      type: reference ? REPLY_MESSAGE_TYPE : 0,
      tts: input.tts ?? false,
      nonce: input.nonce ?? "",
      flags: input.flags ?? 0,
      embeds,
      components,
      attachments,
      ...mentionFields(text, allowed),
      messageReference: reference && {
        type: 0,
        messageId: reference.message_id,
        channelId,
        guildId: reference.guild_id ?? 0n,
        // Discord's default: a reply to a message that is gone fails.
        failIfNotExists: reference.fail_if_not_exists ?? true,
      },
    },
    allowedMentions: allowedMentionsInit(allowed),
  };
}

/**
 * PATCH /channels/:id/messages/:message_id → EditMessage: the fields present in the body,
 * named in the update mask (null clears). New content brings its mentions along. `attachments`
 * lists those the message keeps (by id) and the uploaded files it gets; files uploaded without
 * an `attachments` list join those the message has (`currentAttachmentIds`).
 */
export function editMessageCommand(body: unknown, messageId: bigint, files: readonly UploadedFile[] = [], currentAttachmentIds: readonly bigint[] = []): EditMessageInit {
  const input = validate(editBodySchema, dict(body));
  const present = (key: string) => isDict(body) && key in body;
  const paths: string[] = [];
  const message: NonNullable<EditMessageInit["message"]> = {};
  const allowed = input.allowed_mentions ?? undefined;
  if (present("content")) {
    const text = input.content ?? "";
    Object.assign(message, { content: text, ...mentionFields(text, allowed) });
    // The new content's mentions replace the old ones.
    paths.push("content", "mentions", "mention_roles", "mention_everyone");
  }
  if (present("embeds")) {
    message.embeds = input.embeds ?? [];
    paths.push("embeds");
  }
  if (present("components")) {
    message.components = input.components ?? [];
    paths.push("components");
  }
  if (present("flags")) {
    message.flags = input.flags ?? 0;
    paths.push("flags");
  }
  if (present("attachments") || files.length > 0) {
    message.attachments = present("attachments") ? attachmentsOf(input.attachments ?? [], files, "keep") : attachmentsOf([], files, "keep", currentAttachmentIds);
    paths.push("attachments");
  }
  return { messageId, message, updateMask: { paths }, allowedMentions: allowedMentionsInit(allowed) };
}

const validationError = (path: string[], code: string, message: string) => new InvalidFieldsError([{ path, code, message }]);

/** POST /channels/:id/messages/bulk-delete → the distinct ids; 50034 when one is older than two weeks. */
export function bulkDeleteIds(body: unknown, now = Date.now()): bigint[] {
  const input = validate(z.object({ messages: boundedList(snowflake(), MESSAGE_LIMITS.bulkDelete) }), dict(body));
  const oldest = now - BULK_DELETE_MAX_AGE_MS;
  if (input.messages.some((id) => timestampOf(id) < oldest)) {
    throw new GuildRequestError(
      Code.FailedPrecondition,
      RESTJSONErrorCodes.OneOfTheMessagesProvidedWasTooOldForBulkDelete,
      "You can only bulk delete messages that are under 14 days old.",
    );
  }
  return [...new Set(input.messages)];
}

/**
 * A chorus.chat.v1.Message from the Connect API as the Discord body it stands for, so that it
 * goes through the same rules. Mentions are always parsed from the content, never taken as sent.
 */
export function bodyOfMessage(message: Message, allowed: AllowedMentionsMessage | undefined): Record<string, unknown> {
  const reference = message.messageReference;
  return {
    content: message.content,
    ...(message.nonce ? { nonce: message.nonce } : {}),
    tts: message.tts,
    embeds: message.embeds,
    components: message.components,
    flags: message.flags,
    ...(message.attachments.length > 0 ? { attachments: message.attachments.map((a) => ({ id: a.id.toString() })) } : {}),
    ...(reference && {
      message_reference: {
        type: reference.type,
        message_id: reference.messageId.toString(),
        ...(reference.channelId !== 0n ? { channel_id: reference.channelId.toString() } : {}),
        ...(reference.guildId !== 0n ? { guild_id: reference.guildId.toString() } : {}),
        fail_if_not_exists: reference.failIfNotExists,
      },
    }),
    ...(allowed && {
      allowed_mentions: { parse: allowed.parse, users: allowed.users.map(String), roles: allowed.roles.map(String), replied_user: allowed.repliedUser },
    }),
  };
}

/** Query parameters of GET /channels/:id/messages. */
export const listMessagesQuerySchema = z.object({
  before: snowflake().optional(),
  after: snowflake().optional(),
  around: snowflake().optional(),
  limit: int(1, 100).optional(),
});

/** Query parameters of GET .../reactions/:emoji. */
export const listReactionsQuerySchema = z.object({
  after: snowflake().optional(),
  limit: int(1, 100).optional(),
  type: choice([0, 1]).optional(),
});
