import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PermissionFlagsBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import type { MeshClients } from "@chorus/mesh";
import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import type { MessageCommandResult, MessageCommandSchema } from "@chorus/contracts/chorus/chat/v1/message_commands_pb";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { GuildRequestError, fromGuildServiceError } from "../guilds/guild-errors.js";
import type { Guilds } from "../guilds/guilds.js";
import type { AttachmentFiles } from "../attachments/attachment-files.js";

export type MessageCommandInit = MessageInitShape<typeof MessageCommandSchema>;

/** Where a page of history starts (Discord's before / after / around; none: the newest). */
export type HistoryAnchor = { before: bigint } | { after: bigint } | { around: bigint } | Record<string, never>;

export const DEFAULT_HISTORY_LIMIT = 50;
export const DEFAULT_REACTION_USERS_LIMIT = 25;

export const unknownMessage = () => new GuildRequestError(Code.NotFound, RESTJSONErrorCodes.UnknownMessage);
export const unknownEmoji = () => new GuildRequestError(Code.FailedPrecondition, RESTJSONErrorCodes.UnknownEmoji);
const missingPermissions = () => new GuildRequestError(Code.PermissionDenied, RESTJSONErrorCodes.MissingPermissions);

/** Custom emoji as Discord's paths write them: "name:id" ("a:name:id" for animated ones is read as the same). */
const CUSTOM_EMOJI = /^(?:a:)?([\w-]{1,32}):(\d{1,20})$/;
/** Control characters, whitespace and the colon have no place in a Unicode emoji. */
const NOT_IN_UNICODE_EMOJI = /[\p{Cc}\p{Cf}\s:]/u;

/**
 * A reaction emoji as storage keeps it: a custom one as "name:id", a Unicode one as it is;
 * 10014 Unknown Emoji when it is neither (an empty name, control characters, over 100 characters).
 * Whether a custom emoji exists is the owner's to say.
 */
export function normalizeEmoji(emoji: string): string {
  const custom = CUSTOM_EMOJI.exec(emoji);
  if (custom) return `${custom[1]}:${BigInt(custom[2])}`;
  const length = [...emoji].length;
  // "\u200d" (zero-width joiner) and variation selectors belong to emoji sequences.
  const stripped = emoji.replace(/[\u200d\ufe0e\ufe0f]/g, "");
  if (length === 0 || length > 32 || stripped === "" || NOT_IN_UNICODE_EMOJI.test(stripped)) throw unknownEmoji();
  return emoji;
}

const isCode = (err: unknown, code: Code) => err instanceof ConnectError && err.code === code;

/**
 * Whether a failed command was refused (bad input, permissions, a limit...), so that nothing
 * of it was stored, rather than cut short with an unknown outcome (the mesh unavailable, a
 * deadline), after which the message may exist.
 */
export function isRefusal(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return true;
  return ![Code.Unavailable, Code.DeadlineExceeded, Code.Aborted, Code.Internal, Code.Unknown, Code.Canceled, Code.DataLoss].includes(err.code);
}

/**
 * Messages as the edge serves them, shared by the Discord routes and the Connect
 * MessageService. Writes are message commands routed to the owner of the channel (the guild,
 * or the private channel), which checks permissions, stores and fans out. Reads go to storage
 * directly, by channel id, once the channel's owner has said the caller may see the channel
 * (VIEW_CHANNEL) and read its history (READ_MESSAGE_HISTORY).
 */
export class Messages {
  constructor(
    private readonly clients: MeshClients,
    private readonly guilds: Guilds,
    /** Where attachments' files are, to delete those of deleted messages and removed attachments. */
    private readonly files?: Pick<AttachmentFiles, "remove">,
  ) {}

  private storage(channelId: bigint) {
    return this.clients.client(StorageService, channelId);
  }

  /**
   * Runs one message command in a channel, as `actorId`, on the channel's owner. Once a delete
   * or an edit of the attachments succeeded, the files of the attachments that are gone are
   * deleted too (read from the messages as they were before the command).
   */
  async execute(actorId: bigint, channelId: bigint, command: MessageCommandInit): Promise<MessageCommandResult> {
    const before = await this.attachmentsBefore(channelId, command);
    const ownerId = await this.guilds.ownerOfChannel(channelId);
    let result: MessageCommandResult;
    try {
      const response = await this.clients.client(GuildService, ownerId).executeMessage({ ownerId, actorId, channelId, command });
      if (!response.result) throw new ConnectError("guild service answered no result", Code.Internal);
      result = response.result;
    } catch (err) {
      throw fromGuildServiceError(err);
    }
    if (before.length > 0) {
      const kept = new Set(result.result.case === "message" ? result.result.value.attachments.map((a) => a.id) : []);
      await this.files?.remove(channelId, before.filter((id) => !kept.has(id)));
    }
    return result;
  }

  /** Before a command that may leave attachments behind: the attachment ids of the messages it touches. */
  private async attachmentsBefore(channelId: bigint, command: MessageCommandInit): Promise<bigint[]> {
    const c = command.command;
    if (!this.files || !c) return [];
    let messageIds: readonly bigint[];
    if (c.case === "deleteMessage" || c.case === "deleteWebhookMessage") messageIds = [c.value.messageId ?? 0n];
    else if (c.case === "bulkDeleteMessages") messageIds = c.value.messageIds ?? [];
    else if ((c.case === "editMessage" || c.case === "editWebhookMessage") && c.value.updateMask?.paths?.includes("attachments")) messageIds = [c.value.messageId ?? 0n];
    else return [];
    const messages = await Promise.all(messageIds.map((id) => this.stored(channelId, id)));
    return messages.flatMap((m) => m?.attachments.map((a) => a.id) ?? []);
  }

  /** A message as storage has it, for the edge's own use (no permission check); undefined when it is not there or cannot be read now. */
  async stored(channelId: bigint, messageId: bigint): Promise<Message | undefined> {
    try {
      return (await this.storage(channelId).getMessage({ channelId, messageId })).message;
    } catch {
      // Not found, or storage unavailable: the command decides; only a file may stay behind.
      return undefined;
    }
  }

  /**
   * Before files are stored: 10003 / 50001 when the caller cannot see the channel, 50013 without
   * SEND_MESSAGES and ATTACH_FILES (the owner checks again when the message arrives).
   */
  async requireAttachFiles(actorId: bigint, channelId: bigint): Promise<void> {
    const { permissions } = await this.guilds.getChannel(actorId, channelId);
    const needed = PermissionFlagsBits.SendMessages | PermissionFlagsBits.AttachFiles;
    if ((permissions & needed) !== needed) throw missingPermissions();
  }

  /** The message a command answered with, or an error naming what came back instead. */
  static messageOf(result: MessageCommandResult): Message {
    if (result.result.case !== "message") throw new ConnectError(`guild service answered ${result.result.case ?? "nothing"} where a message was expected`, Code.Internal);
    return result.result.value;
  }

  /**
   * Whether the caller may read the channel's history: false without READ_MESSAGE_HISTORY;
   * 10003 / 50001 from the owner when the channel is unknown or out of sight.
   */
  async canReadHistory(actorId: bigint, channelId: bigint): Promise<boolean> {
    const { permissions } = await this.guilds.getChannel(actorId, channelId);
    return (permissions & PermissionFlagsBits.ReadMessageHistory) !== 0n;
  }

  private async requireHistory(actorId: bigint, channelId: bigint): Promise<void> {
    if (!(await this.canReadHistory(actorId, channelId))) throw missingPermissions();
  }

  /**
   * A page of the channel's history, newest first (as Discord answers every anchor). Without
   * READ_MESSAGE_HISTORY the page is empty, as on Discord.
   */
  async list(actorId: bigint, channelId: bigint, anchor: HistoryAnchor, limit = DEFAULT_HISTORY_LIMIT): Promise<Message[]> {
    if (!(await this.canReadHistory(actorId, channelId))) return [];
    const { messages } = await this.storage(channelId).listMessages({ channelId, anchor: anchorOf(anchor), limit, viewerId: actorId });
    // Storage pages forward from `after` oldest first.
    return "after" in anchor ? [...messages].reverse() : messages;
  }

  /** One message; 10008 Unknown Message when it is not in the channel. */
  async get(actorId: bigint, channelId: bigint, messageId: bigint): Promise<Message> {
    await this.requireHistory(actorId, channelId);
    return this.read(channelId, messageId, actorId);
  }

  /** A message a webhook posted (no permission check: the webhook's token is); 10008 for any other. */
  async ofWebhook(channelId: bigint, messageId: bigint, webhookId: bigint): Promise<Message> {
    const message = await this.read(channelId, messageId, 0n);
    if (message.webhookId !== webhookId) throw unknownMessage();
    return message;
  }

  /** The channel's pinned messages, most recently pinned first (none without READ_MESSAGE_HISTORY). */
  async pins(actorId: bigint, channelId: bigint): Promise<Message[]> {
    if (!(await this.canReadHistory(actorId, channelId))) return [];
    return (await this.storage(channelId).listPinnedMessages({ channelId, viewerId: actorId })).messages;
  }

  /** The users who reacted to a message with `emoji`, by ascending id. */
  async reactionUsers(actorId: bigint, channelId: bigint, messageId: bigint, emoji: string, after = 0n, limit = DEFAULT_REACTION_USERS_LIMIT): Promise<bigint[]> {
    await this.get(actorId, channelId, messageId);
    const normalized = normalizeEmoji(emoji);
    return (await this.storage(channelId).listReactionUsers({ channelId, messageId, emoji: normalized, after, limit })).userIds;
  }

  /**
   * The messages the replies among `messages` refer to, by id: null for those deleted since.
   * Messages of the page itself are not read again.
   */
  async referencedMessages(channelId: bigint, messages: readonly Message[], viewerId: bigint): Promise<Map<bigint, Message | null>> {
    const known = new Map(messages.map((m) => [m.id, m] as const));
    const referenced = new Map<bigint, Message | null>();
    const missing = new Set<bigint>();
    for (const message of messages) {
      const id = message.messageReference?.messageId;
      if (!id) continue;
      const found = known.get(id);
      if (found) referenced.set(id, found);
      else missing.add(id);
    }
    await Promise.all(
      [...missing].map(async (id) => {
        try {
          referenced.set(id, await this.read(channelId, id, viewerId));
        } catch (err) {
          if (!(err instanceof GuildRequestError && err.discordCode === RESTJSONErrorCodes.UnknownMessage)) throw err;
          referenced.set(id, null);
        }
      }),
    );
    return referenced;
  }

  private async read(channelId: bigint, messageId: bigint, viewerId: bigint): Promise<Message> {
    try {
      const { message } = await this.storage(channelId).getMessage({ channelId, messageId, viewerId });
      if (!message) throw unknownMessage();
      return message;
    } catch (err) {
      if (isCode(err, Code.NotFound)) throw unknownMessage();
      throw err;
    }
  }
}

function anchorOf(anchor: HistoryAnchor) {
  if ("before" in anchor) return { case: "before" as const, value: anchor.before };
  if ("after" in anchor) return { case: "after" as const, value: anchor.after };
  if ("around" in anchor) return { case: "around" as const, value: anchor.around };
  return { case: undefined };
}
