import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import type { AddedReaction } from "./reactions.js";

export type { Message };

/** Fields an update may change (the contract's update_mask paths). */
export type MessagePatch = Partial<
  Pick<
    Message,
    "content" | "embeds" | "components" | "attachments" | "flags" | "pinned" | "editedTimestamp" | "mentions" | "mentionRoles" | "mentionEveryone"
  >
>;

/** Called once per database round trip, so the service can count real queries. */
export type QueryHook = (operation: string) => void;

/**
 * A message database. Two implementations with identical semantics, proved by one
 * conformance suite: Cassandra/ScyllaDB (cluster mode) and SQLite (embedded mode).
 *
 * Ids are snowflakes (bigint). A message is addressed by (channelId, messageId); the channel
 * id is itself a snowflake, so no message of a channel is older than the channel.
 *
 * Reactions are rows of (message, emoji, user), each carrying the emoji's first use; counts
 * are always derived from the rows (never kept as counters), so concurrent adds and removes
 * of different users cannot make them drift. Every message a read returns carries its
 * `reactions` (count per emoji, by first use, `me` false); `insert` ignores `reactions`, and
 * re-inserting a message keeps its reactions. Reaction rows of a message that does not exist
 * are never returned (a reaction racing the deletion of its message may leave one behind).
 */
export interface MessageStore {
  readonly backend: "cassandra" | "sqlite";

  /** Connects and applies the schema migrations that are missing (idempotent). */
  open(): Promise<void>;

  /** Stores a whole message, replacing any previous version with the same id. Resolves once durable. */
  insert(message: Message): Promise<void>;

  /** The message, or undefined when it does not exist. Never returns a partial row. */
  get(channelId: bigint, messageId: bigint): Promise<Message | undefined>;

  /**
   * Applies `patch` to an existing message and returns the new version, or undefined when it
   * does not exist. Never creates a row, and is atomic with respect to `delete`: an update
   * racing a delete either lands before it (and is deleted with it) or finds nothing.
   * Setting `pinned` keeps the channel's pin list in step.
   */
  update(channelId: bigint, messageId: bigint, patch: MessagePatch): Promise<Message | undefined>;

  /** Deletes the message, its pin and its reactions; true when it existed. */
  delete(channelId: bigint, messageId: bigint): Promise<boolean>;

  /** Newest first: up to `limit` messages with id < `before` (the newest when undefined). */
  listBefore(channelId: bigint, before: bigint | undefined, limit: number): Promise<Message[]>;

  /** Oldest first: up to `limit` messages with id > `after`. */
  listAfter(channelId: bigint, after: bigint, limit: number): Promise<Message[]>;

  /** Pinned messages of the channel, most recently pinned first (ties: newest message first). */
  listPinned(channelId: bigint): Promise<Message[]>;

  /**
   * Records `userId`'s reaction with `emoji`: `added` false when it existed (nothing changes),
   * `count` the emoji's count afterwards. Undefined when the message does not exist.
   */
  addReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<AddedReaction | undefined>;

  /** Removes one reaction: true when it existed. Undefined when the message does not exist. */
  removeReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<boolean | undefined>;

  /**
   * Removes every reaction of the message, or those with `emoji`; returns how many. Undefined
   * when the message does not exist.
   */
  removeReactions(channelId: bigint, messageId: bigint, emoji: string | undefined): Promise<number | undefined>;

  /**
   * Up to `limit` users who reacted with `emoji`, ids above `after`, ascending. Undefined when
   * the message does not exist.
   */
  listReactionUsers(channelId: bigint, messageId: bigint, emoji: string, after: bigint, limit: number): Promise<bigint[] | undefined>;

  /**
   * The emojis `userId` reacted with on each of `messages` (as read, with their `reactions`;
   * messages without reactions are not looked at): message id → emojis.
   */
  userReactions(channelId: bigint, userId: bigint, messages: readonly Message[]): Promise<Map<bigint, Set<string>>>;

  close(): Promise<void>;
}
