import type {
  APIAttachment,
  APIEmbed,
  APIMessage,
  APIMessageInteractionMetadata,
  APIMessageReference,
  APIMessageTopLevelComponent,
  APIPartialEmoji,
  APIReaction,
  MessageFlags,
  MessageReferenceType,
  MessageType,
} from "discord-api-types/v10";
import type { Attachment, Message, MessageReference, Reaction } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { isoTime, type UserLookup } from "./guilds.js";
import { discordUser, type DiscordPublicUser } from "./users.js";

/**
 * Discord's message JSON from chorus.chat.v1.Message. Embeds, components and interaction
 * metadata travel as JSON objects the api validated and normalized (embed `type`, component
 * `id`s...), so they are rendered as they are. REST answers carry no `guild_id` or `member`;
 * the gateway's MESSAGE_CREATE adds them.
 */

export type DiscordMessage = APIMessage & {
  author: DiscordPublicUser;
  mentions: DiscordPublicUser[];
  flags: MessageFlags;
  components: APIMessageTopLevelComponent[];
  referenced_message?: DiscordMessage | null;
};

/** Discord's epoch (2015-01-01), the origin of the timestamp in a snowflake's top 42 bits. */
const DISCORD_EPOCH_MS = 1420070400000n;

/** When a snowflake was minted, as Discord writes timestamps. */
export function snowflakeTime(id: bigint): string {
  return new Date(Number((id >> 22n) + DISCORD_EPOCH_MS)).toISOString();
}

export interface MessageRenderOptions {
  /**
   * The message a reply (or forward) refers to: rendered as `referenced_message`, null when it
   * was deleted. Left undefined, `referenced_message` is left out.
   */
  referencedMessage?: Message | null;
}

export function discordAttachment(attachment: Attachment): APIAttachment {
  return {
    id: attachment.id.toString(),
    filename: attachment.filename,
    size: Number(attachment.size),
    url: attachment.url,
    proxy_url: attachment.proxyUrl || attachment.url,
    ...(attachment.contentType ? { content_type: attachment.contentType } : {}),
    ...(attachment.description ? { description: attachment.description } : {}),
    // Images only, as Discord: the dimensions of anything else are null.
    ...(attachment.width || attachment.height ? { width: attachment.width, height: attachment.height } : {}),
    ...(attachment.ephemeral ? { ephemeral: true } : {}),
  };
}

export function discordMessageReference(reference: MessageReference): APIMessageReference {
  return {
    type: reference.type as MessageReferenceType,
    channel_id: reference.channelId.toString(),
    ...(reference.messageId !== 0n ? { message_id: reference.messageId.toString() } : {}),
    ...(reference.guildId !== 0n ? { guild_id: reference.guildId.toString() } : {}),
  };
}

/** A reaction's emoji: "name:id" is a custom emoji, anything else a Unicode one. */
export function discordReactionEmoji(emoji: string): APIPartialEmoji {
  const custom = /^(.+):(\d+)$/.exec(emoji);
  return custom ? { id: custom[2], name: custom[1] } : { id: null, name: emoji };
}

/** One emoji's reactions; Chorus has no super reactions, so every one is normal. */
export function discordReaction(reaction: Reaction): APIReaction {
  return {
    emoji: discordReactionEmoji(reaction.emoji),
    count: reaction.count,
    count_details: { burst: 0, normal: reaction.count },
    me: reaction.me,
    me_burst: false,
    burst_colors: [],
  };
}

/** A webhook has no user flags. */
const NO_FLAGS: number = 0;

/** A channel webhook's message: its author is the webhook itself (no account behind it). */
const byChannelWebhook = (message: Message) => message.webhookId !== 0n && message.authorId === message.webhookId;

/**
 * The author as Discord shows it. A channel webhook's message shows the webhook (its id, the
 * name and avatar the message was posted with, discriminator "0000", a bot); another message
 * with a webhook id (an application's, authored by its bot) shows the account with the overrides.
 */
function authorOf(message: Message, users: UserLookup): DiscordPublicUser {
  if (byChannelWebhook(message)) {
    return {
      id: message.webhookId.toString(),
      username: message.authorUsernameOverride,
      global_name: null,
      avatar: message.authorAvatarOverride || null,
      discriminator: "0000",
      public_flags: NO_FLAGS,
      flags: NO_FLAGS,
      bot: true,
      banner: null,
      accent_color: null,
      avatar_decoration_data: null,
      collectibles: null,
      primary_guild: null,
    };
  }
  const author = discordUser(users(message.authorId));
  if (message.webhookId === 0n) return author;
  return {
    ...author,
    id: message.webhookId.toString(),
    username: message.authorUsernameOverride || author.username,
    global_name: null,
    avatar: message.authorAvatarOverride || author.avatar,
    bot: true,
  };
}

/** The message as Discord's REST API answers it. `users` must know every id usersOfMessage names. */
export function discordMessage(message: Message, users: UserLookup, options: MessageRenderOptions = {}): DiscordMessage {
  const json: DiscordMessage = {
    id: message.id.toString(),
    channel_id: message.channelId.toString(),
    type: message.type as MessageType,
    author: authorOf(message, users),
    content: message.content,
    timestamp: snowflakeTime(message.id),
    edited_timestamp: isoTime(message.editedTimestamp),
    tts: message.tts,
    mention_everyone: message.mentionEveryone,
    mentions: message.mentions.map((id) => discordUser(users(id))),
    mention_roles: message.mentionRoles.map(String),
    attachments: message.attachments.map(discordAttachment),
    embeds: message.embeds as unknown as APIEmbed[],
    components: message.components as unknown as APIMessageTopLevelComponent[],
    pinned: message.pinned,
    flags: message.flags as MessageFlags,
    ...(message.nonce ? { nonce: message.nonce } : {}),
    ...(message.webhookId !== 0n ? { webhook_id: message.webhookId.toString() } : {}),
    ...(message.applicationId !== 0n ? { application_id: message.applicationId.toString() } : {}),
    ...(message.messageReference ? { message_reference: discordMessageReference(message.messageReference) } : {}),
    ...(message.interactionMetadata ? { interaction_metadata: message.interactionMetadata as unknown as APIMessageInteractionMetadata } : {}),
  };
  // As Discord: present only when someone reacted.
  if (message.reactions.length > 0) json.reactions = message.reactions.map(discordReaction);
  if (options.referencedMessage !== undefined) {
    json.referenced_message = options.referencedMessage === null ? null : discordMessage(options.referencedMessage, users);
  }
  return json;
}

/** The users a message's JSON names: its author and mentions, and those of the message it refers to. */
export function usersOfMessage(message: Message, referencedMessage?: Message | null): bigint[] {
  // A webhook's message has no account behind its author.
  const authorOf = (m: Message) => (byChannelWebhook(m) ? [] : [m.authorId]);
  const ids = [...authorOf(message), ...message.mentions];
  if (referencedMessage) ids.push(...authorOf(referencedMessage), ...referencedMessage.mentions);
  return ids;
}

/** The fields Discord empties for an app without the MESSAGE_CONTENT intent. */
export const MESSAGE_CONTENT_FIELDS = ["content", "embeds", "attachments", "components"] as const;
export type MessageContentField = (typeof MESSAGE_CONTENT_FIELDS)[number];

/**
 * Which fields of `message` an app `viewerId` that lacks MESSAGE_CONTENT must not see: all of
 * MESSAGE_CONTENT_FIELDS, or none where Discord exempts the message (the app wrote it, it
 * mentions the app, or it is in a DM, which has no guild). The caller knows whether the
 * viewer is such an app (a bot session without the intent) and applies withoutContent.
 */
export function withheldContentFields(message: Message, viewerId: bigint): readonly MessageContentField[] {
  const exempt = message.authorId === viewerId || message.guildId === 0n || message.mentions.includes(viewerId);
  return exempt ? [] : MESSAGE_CONTENT_FIELDS;
}

/** `json` with `fields` emptied ("" for content, [] for the lists), as Discord sends them to such apps. */
export function withoutContent<T extends DiscordMessage>(json: T, fields: readonly MessageContentField[]): T {
  if (fields.length === 0) return json;
  const emptied: T = { ...json };
  for (const field of fields) {
    if (field === "content") emptied.content = "";
    else emptied[field] = [];
  }
  return emptied;
}
