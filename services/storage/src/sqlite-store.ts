import type Database from "better-sqlite3";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DISCORD_EPOCH_MS, snowflakeFromTimestamp } from "@chorus/snowflake";
import { BUCKET_SIZE_MS, bucketOf } from "./buckets.js";
import {
  decodeAttachments,
  decodeObject,
  decodeObjects,
  decodeReference,
  encodeJsonColumns,
  messageFrom,
} from "./message-codec.js";
import type { Message, MessagePatch, MessageStore, QueryHook } from "./message-store.js";
import { orderedReactions, reactionClock, type AddedReaction, type ReactionTally } from "./reactions.js";
import { appliedMigrations, fromDb, SqliteConnection, toDb } from "./sqlite-schema.js";

export interface SqliteStoreOptions {
  /** Database file, or ":memory:" (one private database per store). */
  path: string;
  /** Called once per SQL statement executed, so the service can count real queries. */
  onQuery?: QueryHook;
}

const MAX_I64 = (1n << 63n) - 1n;

/** The smallest id of a bucket: history never reaches below the channel's own bucket. */
const firstIdOfBucket = (bucket: number): bigint =>
  snowflakeFromTimestamp(Number(DISCORD_EPOCH_MS) + bucket * BUCKET_SIZE_MS);

interface MessageRow {
  channel_id: bigint;
  message_id: bigint;
  bucket: bigint | number;
  guild_id: bigint;
  author_id: bigint;
  content: string;
  type: bigint | number;
  flags: bigint | number;
  edited_at: bigint | number | null;
  tts: bigint | number;
  mention_everyone: bigint | number;
  mentions: string | null;
  mention_roles: string | null;
  pinned: bigint | number;
  attachments: string | null;
  embeds: string | null;
  components: string | null;
  message_reference: string | null;
  webhook_id: bigint;
  application_id: bigint;
  interaction_metadata: string | null;
  nonce: string;
  author_username: string;
  author_avatar: string;
}

/** Column values of a message row, as bound to statements (named parameters). */
type RowParams = Record<keyof MessageRow, bigint | number | string | null>;

const COLUMNS: readonly (keyof MessageRow)[] = [
  "channel_id", "message_id", "bucket", "guild_id", "author_id", "content", "type", "flags", "edited_at", "tts",
  "mention_everyone", "mentions", "mention_roles", "pinned", "attachments", "embeds", "components",
  "message_reference", "webhook_id", "application_id", "interaction_metadata", "nonce", "author_username", "author_avatar",
];

/** Columns an update may change (MessagePatch), all rewritten by one UPDATE. */
const PATCHABLE: readonly (keyof MessageRow)[] = [
  "content", "embeds", "components", "attachments", "flags", "pinned", "edited_at", "mentions", "mention_roles", "mention_everyone",
];

const encodeIds = (ids: bigint[]): string | null => (ids.length ? JSON.stringify(ids.map(String)) : null);
const decodeIds = (text: string | null): bigint[] => (text ? (JSON.parse(text) as string[]).map((s) => BigInt(s)) : []);

function encodeRow(message: Message): RowParams {
  const json = encodeJsonColumns(message);
  return {
    channel_id: toDb(message.channelId),
    message_id: toDb(message.id),
    bucket: bucketOf(message.id),
    guild_id: toDb(message.guildId),
    author_id: toDb(message.authorId),
    content: message.content,
    type: message.type,
    flags: message.flags,
    // Millisecond precision, as Cassandra's timestamp type: both backends read back the same.
    edited_at: message.editedTimestamp ? timestampDate(message.editedTimestamp).getTime() : null,
    tts: message.tts ? 1 : 0,
    mention_everyone: message.mentionEveryone ? 1 : 0,
    mentions: encodeIds(message.mentions),
    mention_roles: encodeIds(message.mentionRoles),
    pinned: message.pinned ? 1 : 0,
    attachments: json.attachments,
    embeds: json.embeds,
    components: json.components,
    message_reference: json.message_reference,
    webhook_id: toDb(message.webhookId),
    application_id: toDb(message.applicationId),
    interaction_metadata: json.interaction_metadata,
    nonce: message.nonce,
    author_username: message.authorUsernameOverride,
    author_avatar: message.authorAvatarOverride,
  };
}

function decodeRow(row: MessageRow): Message {
  return messageFrom({
    id: fromDb(row.message_id),
    channelId: fromDb(row.channel_id),
    guildId: fromDb(row.guild_id),
    authorId: fromDb(row.author_id),
    content: row.content,
    type: Number(row.type),
    flags: Number(row.flags),
    editedTimestamp: row.edited_at === null ? undefined : timestampFromDate(new Date(Number(row.edited_at))),
    tts: Number(row.tts) !== 0,
    mentionEveryone: Number(row.mention_everyone) !== 0,
    mentions: decodeIds(row.mentions),
    mentionRoles: decodeIds(row.mention_roles),
    pinned: Number(row.pinned) !== 0,
    attachments: decodeAttachments(row.attachments),
    embeds: decodeObjects(row.embeds),
    components: decodeObjects(row.components),
    messageReference: decodeReference(row.message_reference),
    webhookId: fromDb(row.webhook_id),
    applicationId: fromDb(row.application_id),
    interactionMetadata: decodeObject(row.interaction_metadata),
    nonce: row.nonce,
    authorUsernameOverride: row.author_username,
    authorAvatarOverride: row.author_avatar,
  });
}

type Statements = ReturnType<SqliteMessageStore["prepareStatements"]>;

interface TallyRow {
  message_id: bigint;
  emoji: string;
  count: bigint;
  first_used: bigint;
}

type MessageKey = { channel_id: bigint; message_id: bigint };
type ReactionKey = MessageKey & { emoji: string };

/** Message ids as a JSON array of integers, for `IN (SELECT value FROM json_each(?))`. */
const idList = (messages: readonly Message[]): string => `[${messages.map((m) => toDb(m.id).toString()).join(",")}]`;

/**
 * Messages in an SQLite file through better-sqlite3 (embedded mode), with the semantics of
 * the Cassandra store (message-store.ts; proved by test/conformance.ts):
 *
 * - WAL journal with synchronous = FULL (set by sqlite-schema.ts): a commit returns only after
 *   the WAL is fsynced, so an acknowledged insert survives a process crash and also an OS
 *   crash or power loss ("Resolves once durable"). NORMAL would survive a process crash but
 *   may lose the last commits on power loss, which the contract does not allow.
 * - 64-bit integers are read as bigint (safeIntegers), never as lossy numbers.
 * - update and delete each run in one transaction: an update never creates a row, and an
 *   update racing a delete lands wholly before it or finds nothing. (better-sqlite3 is
 *   synchronous, so these transactions never interleave within the process; other processes
 *   on the same file are serialized by SQLite's write lock, waited for up to 5 s.)
 * - Pins: setting `pinned` adds or removes the pin row in the same transaction. Re-pinning an
 *   already pinned message keeps its original pinned_at (pinning twice is a no-op), as the
 *   Cassandra store's INSERT ... IF NOT EXISTS does; deleting the message removes its pin.
 * - Reactions: rows of message_reactions (sqlite-schema.ts, migration 6). Each reaction write
 *   is one IMMEDIATE transaction that first checks the message exists, so it cannot race a
 *   delete (which removes the reactions in its own transaction). A read of messages adds one
 *   statement for all their reactions (grouped by message and emoji).
 *
 * `onQuery` is called once per data SQL statement (the BEGIN/COMMIT of a transaction are not
 * counted; migrations count once per migration step).
 */
export class SqliteMessageStore implements MessageStore {
  readonly backend = "sqlite" as const;
  private readonly connection: SqliteConnection<Statements>;

  constructor(private readonly options: SqliteStoreOptions) {
    this.connection = new SqliteConnection(options.path, options.onQuery, (db) => this.prepareStatements(db));
  }

  async open(): Promise<void> {
    this.connection.open();
  }

  /** Versions recorded in schema_migrations (for tests and diagnostics). */
  appliedMigrations(): number[] {
    return appliedMigrations(this.connection.database("migrations"));
  }

  private prepareStatements(db: Database.Database) {
    const where = "WHERE channel_id = @channel_id AND message_id = @message_id";
    return {
      insert: db.prepare<[RowParams]>(
        `INSERT OR REPLACE INTO messages (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((c) => `@${c}`).join(", ")})`,
      ),
      get: db.prepare<[{ channel_id: bigint; message_id: bigint }], MessageRow>(`SELECT * FROM messages ${where}`),
      update: db.prepare<[Partial<RowParams>]>(
        `UPDATE messages SET ${PATCHABLE.map((c) => `${c} = @${c}`).join(", ")} ${where}`,
      ),
      delete: db.prepare<[{ channel_id: bigint; message_id: bigint }]>(`DELETE FROM messages ${where}`),
      latest: db.prepare<[bigint, bigint, number], MessageRow>(
        "SELECT * FROM messages WHERE channel_id = ? AND message_id >= ? ORDER BY message_id DESC LIMIT ?",
      ),
      before: db.prepare<[bigint, bigint, bigint, number], MessageRow>(
        "SELECT * FROM messages WHERE channel_id = ? AND message_id >= ? AND message_id < ? ORDER BY message_id DESC LIMIT ?",
      ),
      after: db.prepare<[bigint, bigint, number], MessageRow>(
        "SELECT * FROM messages WHERE channel_id = ? AND message_id > ? ORDER BY message_id ASC LIMIT ?",
      ),
      pinned: db.prepare<[bigint], MessageRow>(
        `SELECT m.* FROM pins p JOIN messages m ON m.channel_id = p.channel_id AND m.message_id = p.message_id
         WHERE p.channel_id = ? ORDER BY p.pinned_at DESC, p.message_id DESC`,
      ),
      // Re-pinning keeps the original pinned_at.
      pin: db.prepare<[{ channel_id: bigint; message_id: bigint; pinned_at: number }]>(
        "INSERT INTO pins (channel_id, message_id, pinned_at) VALUES (@channel_id, @message_id, @pinned_at) ON CONFLICT DO NOTHING",
      ),
      unpin: db.prepare<[{ channel_id: bigint; message_id: bigint }]>(`DELETE FROM pins ${where}`),
      exists: db.prepare<[MessageKey], unknown>(`SELECT 1 FROM messages ${where}`).pluck(),
      // Zero rows give count 0 and first_used NULL.
      emojiTally: db.prepare<[ReactionKey], { count: bigint; first_used: bigint | null }>(
        `SELECT COUNT(*) AS count, MIN(first_used) AS first_used FROM message_reactions ${where} AND emoji = @emoji`,
      ),
      addReaction: db.prepare<[ReactionKey & { user_id: bigint; first_used: bigint }]>(
        `INSERT INTO message_reactions (channel_id, message_id, emoji, user_id, first_used)
         VALUES (@channel_id, @message_id, @emoji, @user_id, @first_used) ON CONFLICT DO NOTHING`,
      ),
      removeReaction: db.prepare<[ReactionKey & { user_id: bigint }]>(
        `DELETE FROM message_reactions ${where} AND emoji = @emoji AND user_id = @user_id`,
      ),
      removeEmoji: db.prepare<[ReactionKey]>(`DELETE FROM message_reactions ${where} AND emoji = @emoji`),
      removeReactions: db.prepare<[MessageKey]>(`DELETE FROM message_reactions ${where}`),
      reactionUsers: db.prepare<[ReactionKey & { after: bigint; limit: number }], bigint>(
        `SELECT user_id FROM message_reactions ${where} AND emoji = @emoji AND user_id > @after ORDER BY user_id LIMIT @limit`,
      ).pluck(),
      tallies: db.prepare<[bigint, string], TallyRow>(
        `SELECT message_id, emoji, COUNT(*) AS count, MIN(first_used) AS first_used FROM message_reactions
         WHERE channel_id = ? AND message_id IN (SELECT value FROM json_each(?)) GROUP BY message_id, emoji`,
      ),
      userReactions: db.prepare<[bigint, string, bigint], { message_id: bigint; emoji: string }>(
        `SELECT message_id, emoji FROM message_reactions
         WHERE channel_id = ? AND message_id IN (SELECT value FROM json_each(?)) AND user_id = ?`,
      ),
      transaction: <T>(work: () => T): T => db.transaction(work).immediate(),
    };
  }

  private query(operation: string): void {
    this.options.onQuery?.(operation);
  }

  private run<T>(operation: string, work: (s: Statements) => T): Promise<T> {
    return this.connection.run(operation, work);
  }

  private syncPin(s: Statements, key: { channel_id: bigint; message_id: bigint }, pinned: boolean): void {
    if (pinned) {
      this.query("pin");
      s.pin.run({ ...key, pinned_at: Date.now() });
    } else {
      this.query("unpin");
      s.unpin.run(key);
    }
  }

  /** Sets the reactions of freshly decoded `messages` (one statement; none for no messages). */
  private withReactions(s: Statements, channelId: bigint, messages: Message[]): Message[] {
    if (messages.length === 0) return messages;
    this.query("reactions");
    const byMessage = new Map<bigint, ReactionTally[]>();
    for (const row of s.tallies.all(toDb(channelId), idList(messages))) {
      const id = fromDb(row.message_id);
      let tallies = byMessage.get(id);
      if (!tallies) byMessage.set(id, (tallies = []));
      tallies.push({ emoji: row.emoji, count: Number(row.count), firstUsed: row.first_used });
    }
    for (const message of messages) message.reactions = orderedReactions(byMessage.get(message.id) ?? []);
    return messages;
  }

  /** Runs the write `work` in one IMMEDIATE transaction if the message exists; undefined when it does not. */
  private onMessage<T>(channelId: bigint, messageId: bigint, work: (s: Statements, key: MessageKey) => T): Promise<T | undefined> {
    return this.run("reaction", (s) =>
      s.transaction(() => {
        const key = { channel_id: toDb(channelId), message_id: toDb(messageId) };
        this.query("get");
        if (s.exists.get(key) === undefined) return undefined;
        return work(s, key);
      }),
    );
  }

  insert(message: Message): Promise<void> {
    return this.run("insert", (s) =>
      s.transaction(() => {
        const row = encodeRow(message);
        this.query("insert");
        s.insert.run(row);
        this.syncPin(s, { channel_id: row.channel_id as bigint, message_id: row.message_id as bigint }, message.pinned);
      }),
    );
  }

  get(channelId: bigint, messageId: bigint): Promise<Message | undefined> {
    return this.run("get", (s) => {
      this.query("get");
      const row = s.get.get({ channel_id: toDb(channelId), message_id: toDb(messageId) });
      return row ? this.withReactions(s, channelId, [decodeRow(row)])[0] : undefined;
    });
  }

  update(channelId: bigint, messageId: bigint, patch: MessagePatch): Promise<Message | undefined> {
    return this.run("update", (s) =>
      s.transaction(() => {
        const key = { channel_id: toDb(channelId), message_id: toDb(messageId) };
        this.query("get");
        const current = s.get.get(key);
        if (!current) return undefined;
        // A field named in the patch replaces the stored value, even with undefined (which
        // clears edited_timestamp, as an update_mask path without a value does).
        const merged = decodeRow(current);
        for (const field of Object.keys(patch) as (keyof MessagePatch)[]) {
          (merged as Record<string, unknown>)[field] = patch[field];
        }
        merged.pinned = Boolean(merged.pinned);
        merged.embeds ??= [];
        merged.components ??= [];
        merged.attachments ??= [];
        merged.content ??= "";
        merged.flags ??= 0;
        merged.mentions ??= [];
        merged.mentionRoles ??= [];
        merged.mentionEveryone = Boolean(merged.mentionEveryone);
        const row = encodeRow(merged);
        this.query("update");
        s.update.run(Object.fromEntries([...PATCHABLE, "channel_id", "message_id"].map((c) => [c, row[c as keyof MessageRow]])));
        if ("pinned" in patch) this.syncPin(s, key, merged.pinned);
        // The stored version exactly as a later get reads it back (e.g. ms timestamps).
        return this.withReactions(s, channelId, [decodeRow({ ...current, ...row } as MessageRow)])[0];
      }),
    );
  }

  delete(channelId: bigint, messageId: bigint): Promise<boolean> {
    return this.run("delete", (s) =>
      s.transaction(() => {
        const key = { channel_id: toDb(channelId), message_id: toDb(messageId) };
        this.query("delete");
        const { changes } = s.delete.run(key);
        this.query("unpin");
        s.unpin.run(key);
        this.query("reaction");
        s.removeReactions.run(key);
        return changes > 0;
      }),
    );
  }

  listBefore(channelId: bigint, before: bigint | undefined, limit: number): Promise<Message[]> {
    return this.run("history", (s) => {
      this.query("history");
      const floor = toDb(firstIdOfBucket(bucketOf(channelId)));
      // An anchor beyond the signed range is above every stored id: no upper bound.
      const rows =
        before === undefined || before > MAX_I64
          ? s.latest.all(toDb(channelId), floor, limit)
          : s.before.all(toDb(channelId), floor, toDb(before), limit);
      return this.withReactions(s, channelId, rows.map(decodeRow));
    });
  }

  listAfter(channelId: bigint, after: bigint, limit: number): Promise<Message[]> {
    return this.run("history", (s) => {
      if (after >= MAX_I64) return [];
      this.query("history");
      // Like listBefore, nothing below the channel's own bucket.
      const floor = toDb(firstIdOfBucket(bucketOf(channelId)));
      const lower = toDb(after) < floor ? floor - 1n : toDb(after);
      return this.withReactions(s, channelId, s.after.all(toDb(channelId), lower, limit).map(decodeRow));
    });
  }

  listPinned(channelId: bigint): Promise<Message[]> {
    return this.run("pins", (s) => {
      this.query("pins");
      return this.withReactions(s, channelId, s.pinned.all(toDb(channelId)).map(decodeRow));
    });
  }

  addReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<AddedReaction | undefined> {
    return this.onMessage(channelId, messageId, (s, key) => {
      this.query("reactions");
      const tally = s.emojiTally.get({ ...key, emoji })!;
      this.query("reaction");
      // A new emoji is first used now; otherwise the row inherits the emoji's first use.
      const { changes } = s.addReaction.run({ ...key, emoji, user_id: toDb(userId), first_used: tally.first_used ?? reactionClock() });
      return { added: changes > 0, count: Number(tally.count) + changes };
    });
  }

  removeReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<boolean | undefined> {
    return this.onMessage(channelId, messageId, (s, key) => {
      this.query("reaction");
      return s.removeReaction.run({ ...key, emoji, user_id: toDb(userId) }).changes > 0;
    });
  }

  removeReactions(channelId: bigint, messageId: bigint, emoji: string | undefined): Promise<number | undefined> {
    return this.onMessage(channelId, messageId, (s, key) => {
      this.query("reaction");
      return (emoji === undefined ? s.removeReactions.run(key) : s.removeEmoji.run({ ...key, emoji })).changes;
    });
  }

  listReactionUsers(channelId: bigint, messageId: bigint, emoji: string, after: bigint, limit: number): Promise<bigint[] | undefined> {
    return this.run("reactions", (s) => {
      const key = { channel_id: toDb(channelId), message_id: toDb(messageId) };
      this.query("get");
      if (s.exists.get(key) === undefined) return undefined;
      this.query("reactions");
      return s.reactionUsers.all({ ...key, emoji, after: toDb(after), limit }).map(fromDb);
    });
  }

  userReactions(channelId: bigint, userId: bigint, messages: readonly Message[]): Promise<Map<bigint, Set<string>>> {
    return this.run("reactions", (s) => {
      const mine = new Map<bigint, Set<string>>();
      const reacted = messages.filter((m) => m.reactions.length > 0);
      if (reacted.length === 0) return mine;
      this.query("reactions");
      for (const row of s.userReactions.all(toDb(channelId), idList(reacted), toDb(userId))) {
        const id = fromDb(row.message_id);
        let emojis = mine.get(id);
        if (!emojis) mine.set(id, (emojis = new Set()));
        emojis.add(row.emoji);
      }
      return mine;
    });
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}
