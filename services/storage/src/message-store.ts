import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";

export type { Message };

/** Fields an update may change (the contract's update_mask paths). */
export type MessagePatch = Partial<
  Pick<Message, "content" | "embeds" | "components" | "attachments" | "flags" | "pinned" | "editedTimestamp">
>;

/** Called once per database round trip, so the service can count real queries. */
export type QueryHook = (operation: string) => void;

/**
 * A message database. Two implementations with identical semantics, proved by one
 * conformance suite: Cassandra/ScyllaDB (cluster mode) and SQLite (embedded mode).
 *
 * Ids are snowflakes (bigint). A message is addressed by (channelId, messageId); the channel
 * id is itself a snowflake, so no message of a channel is older than the channel.
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

  /** Deletes the message and its pin; true when it existed. */
  delete(channelId: bigint, messageId: bigint): Promise<boolean>;

  /** Newest first: up to `limit` messages with id < `before` (the newest when undefined). */
  listBefore(channelId: bigint, before: bigint | undefined, limit: number): Promise<Message[]>;

  /** Oldest first: up to `limit` messages with id > `after`. */
  listAfter(channelId: bigint, after: bigint, limit: number): Promise<Message[]>;

  /** Pinned messages of the channel, most recently pinned first (ties: newest message first). */
  listPinned(channelId: bigint): Promise<Message[]>;

  close(): Promise<void>;
}
