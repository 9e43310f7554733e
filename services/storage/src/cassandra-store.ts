import type cassandra from "cassandra-driver";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { bucketAt, bucketOf } from "./buckets.js";
import { CassandraSession, type CassandraStoreOptions } from "./cassandra-session.js";
import {
  decodeAttachments,
  decodeObject,
  decodeObjects,
  decodeReference,
  encodeJsonColumns,
  messageFrom,
} from "./message-codec.js";
import type { Message, MessagePatch, MessageStore } from "./message-store.js";
import { orderedReactions, reactionClock, type AddedReaction, type ReactionTally } from "./reactions.js";

/**
 * Ids minted by another node may run slightly ahead of this clock; within this margin of a
 * bucket boundary the next bucket is read too. Elsewhere history starts at the current one.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 60_000;
const newestBucket = () => bucketAt(Date.now() + CLOCK_SKEW_ALLOWANCE_MS);

/** A message row with its author: a row holding only its key and some columns is never read. */
const isWhole = (row: cassandra.types.Row): boolean => row.author_id !== null && row.author_id !== undefined;

const COLUMNS = [
  "channel_id", "bucket", "message_id", "guild_id", "author_id", "content", "type", "flags", "edited_at", "tts",
  "mention_everyone", "mentions", "mention_roles", "pinned", "attachments", "embeds", "components",
  "message_reference", "webhook_id", "application_id", "interaction_metadata", "nonce", "author_username", "author_avatar",
] as const;

/** The settable columns of an update, by patch field. */
const PATCH_COLUMNS: Record<keyof MessagePatch, string> = {
  content: "content",
  embeds: "embeds",
  components: "components",
  attachments: "attachments",
  flags: "flags",
  pinned: "pinned",
  editedTimestamp: "edited_at",
  mentions: "mentions",
  mentionRoles: "mention_roles",
  mentionEveryone: "mention_everyone",
};

/**
 * Messages on Cassandra/ScyllaDB through one CassandraSession (cassandra-session.ts: prepared
 * statements, token-aware routing, consistency from config).
 *
 * Edit/delete race: Cassandra writes are upserts, so a plain UPDATE racing a DELETE can leave a
 * row holding only its key and the edited columns. Here updates and deletes are lightweight
 * transactions (`IF EXISTS`, Paxos): they are serialized per partition, an update never
 * creates a row, and a deleted message cannot come back. Reads also refuse any row without
 * an author (which no code path can produce) instead of returning it half-empty.
 *
 * Reactions: `message_reactions`, one partition per message with a row per (emoji, user)
 * (cassandra-schema.ts, migration 6); counts are count(*) over the rows. Reaction rows are
 * written with plain writes only (no LWT mixed in: a partition delete and a later Paxos write
 * could be ordered by different clocks), each after checking the message; an add checks
 * again afterwards and takes its row back if the message was deleted meanwhile, so a reaction
 * cannot outlive its message through that race. `added` / `removed` / the removed count come
 * from reading the rows first: exact, except that two identical requests at the same instant
 * may both report the change. A message's first reaction sets `messages.reacted` (LWT,
 * `IF EXISTS`); a page of history reads the reactions of the messages so marked, one
 * `GROUP BY emoji` query per message (in parallel), and none for the others.
 */
export class CassandraMessageStore implements MessageStore {
  readonly backend = "cassandra" as const;
  private readonly session: CassandraSession;
  private readonly ks: string;
  /** Marks of first reactions in flight (markReacted), by channel/message. */
  private readonly marking = new Map<string, Promise<boolean>>();

  constructor(options: CassandraStoreOptions) {
    this.session = new CassandraSession(options);
    this.ks = this.session.keyspace;
  }

  open(): Promise<void> {
    return this.session.open();
  }

  private execute(operation: string, cql: string, params: unknown[]): Promise<cassandra.types.ResultSet> {
    return this.session.execute(operation, cql, params);
  }

  async insert(message: Message): Promise<void> {
    const json = encodeJsonColumns(message);
    const values = [
      message.channelId, bucketOf(message.id), message.id, message.guildId || null, message.authorId, message.content,
      message.type, message.flags | 0, message.editedTimestamp ? timestampDate(message.editedTimestamp) : null, message.tts,
      message.mentionEveryone, message.mentions, message.mentionRoles, message.pinned, json.attachments, json.embeds,
      json.components, json.message_reference, message.webhookId || null, message.applicationId || null,
      json.interaction_metadata, message.nonce || null, message.authorUsernameOverride || null, message.authorAvatarOverride || null,
    ];
    await this.execute(
      "insert",
      `INSERT INTO ${this.ks}.messages (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`,
      values,
    );
    if (message.pinned) await this.pin(message.channelId, message.id);
  }

  async get(channelId: bigint, messageId: bigint): Promise<Message | undefined> {
    const result = await this.execute(
      "get",
      `SELECT * FROM ${this.ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?`,
      [channelId, bucketOf(messageId), messageId],
    );
    return (await this.withReactions(channelId, result.rows))[0];
  }

  async update(channelId: bigint, messageId: bigint, patch: MessagePatch): Promise<Message | undefined> {
    const json = encodeJsonColumns({
      attachments: patch.attachments ?? [],
      embeds: patch.embeds ?? [],
      components: patch.components ?? [],
      messageReference: undefined,
      interactionMetadata: undefined,
    });
    const assignments: string[] = [];
    const values: unknown[] = [];
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof MessagePatch, string][]) {
      if (!(field in patch)) continue;
      assignments.push(`${column} = ?`);
      switch (field) {
        case "attachments":
        case "embeds":
        case "components":
          values.push(json[field]);
          break;
        case "editedTimestamp":
          values.push(patch.editedTimestamp ? timestampDate(patch.editedTimestamp) : null);
          break;
        case "flags":
          values.push((patch.flags ?? 0) | 0);
          break;
        case "mentions":
        case "mentionRoles":
          values.push(patch[field] ?? []);
          break;
        case "mentionEveryone":
          values.push(Boolean(patch.mentionEveryone));
          break;
        default:
          values.push(patch[field]);
      }
    }
    if (assignments.length === 0) return this.get(channelId, messageId);
    // IF EXISTS: a Paxos round serialized with deletes; it never creates the row.
    const result = await this.execute(
      "update",
      `UPDATE ${this.ks}.messages SET ${assignments.join(", ")} WHERE channel_id = ? AND bucket = ? AND message_id = ? IF EXISTS`,
      [...values, channelId, bucketOf(messageId), messageId],
    );
    if (!result.wasApplied()) return undefined;
    if (patch.pinned === true) await this.pin(channelId, messageId);
    if (patch.pinned === false) await this.unpin(channelId, messageId);
    return this.get(channelId, messageId);
  }

  async delete(channelId: bigint, messageId: bigint): Promise<boolean> {
    const result = await this.execute(
      "delete",
      `DELETE FROM ${this.ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ? IF EXISTS`,
      [channelId, bucketOf(messageId), messageId],
    );
    await Promise.all([
      this.unpin(channelId, messageId),
      this.execute("reaction", `DELETE FROM ${this.ks}.message_reactions WHERE channel_id = ? AND message_id = ?`, [channelId, messageId]),
    ]);
    return result.wasApplied();
  }

  async listBefore(channelId: bigint, before: bigint | undefined, limit: number): Promise<Message[]> {
    const out: cassandra.types.Row[] = [];
    // Walk 10-day buckets from the anchor's (or the current one) down to the channel's own.
    const first = before === undefined ? newestBucket() : bucketOf(before);
    const last = bucketOf(channelId);
    for (let bucket = first; bucket >= last && out.length < limit; bucket--) {
      const result =
        before === undefined
          ? await this.execute(
              "history",
              `SELECT * FROM ${this.ks}.messages WHERE channel_id = ? AND bucket = ? LIMIT ?`,
              [channelId, bucket, limit - out.length],
            )
          : await this.execute(
              "history",
              `SELECT * FROM ${this.ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id < ? LIMIT ?`,
              [channelId, bucket, before, limit - out.length],
            );
      out.push(...result.rows.filter(isWhole));
    }
    return this.withReactions(channelId, out);
  }

  async listAfter(channelId: bigint, after: bigint, limit: number): Promise<Message[]> {
    const out: cassandra.types.Row[] = [];
    const first = Math.max(bucketOf(after), bucketOf(channelId));
    const last = newestBucket();
    for (let bucket = first; bucket <= last && out.length < limit; bucket++) {
      const result = await this.execute(
        "history",
        `SELECT * FROM ${this.ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id > ? ORDER BY message_id ASC LIMIT ?`,
        [channelId, bucket, after, limit - out.length],
      );
      out.push(...result.rows.filter(isWhole));
    }
    return this.withReactions(channelId, out);
  }

  async listPinned(channelId: bigint): Promise<Message[]> {
    const pins = await this.execute("pins", `SELECT message_id, pinned_at FROM ${this.ks}.channel_pins WHERE channel_id = ?`, [channelId]);
    const ordered = pins.rows
      .map((r) => ({ id: r.message_id as bigint, at: (r.pinned_at as Date | null)?.getTime() ?? 0 }))
      .sort((a, b) => b.at - a.at || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));
    const messages = await Promise.all(ordered.map((p) => this.get(channelId, p.id)));
    const out: Message[] = [];
    for (let i = 0; i < ordered.length; i++) {
      const message = messages[i];
      // A pin whose message is gone or unpinned (a pin racing a delete) is cleaned up here.
      if (message?.pinned) out.push(message);
      else await this.unpin(channelId, ordered[i].id);
    }
    return out;
  }

  /** Re-pinning keeps the original pin time (IF NOT EXISTS), as pinning twice is a no-op. */
  private async pin(channelId: bigint, messageId: bigint): Promise<void> {
    await this.execute(
      "pin",
      `INSERT INTO ${this.ks}.channel_pins (channel_id, message_id, pinned_at) VALUES (?, ?, ?) IF NOT EXISTS`,
      [channelId, messageId, new Date()],
    );
  }

  private async unpin(channelId: bigint, messageId: bigint): Promise<void> {
    await this.execute("unpin", `DELETE FROM ${this.ks}.channel_pins WHERE channel_id = ? AND message_id = ?`, [channelId, messageId]);
  }

  async addReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<AddedReaction | undefined> {
    const [message, tally, own] = await Promise.all([
      this.messageState(channelId, messageId),
      this.emojiTally(channelId, messageId, emoji),
      this.ownReaction(channelId, messageId, emoji, userId),
    ]);
    if (!message) return undefined;
    if (own) return { added: false, count: tally.count };
    if (!message.reacted && !(await this.markReacted(channelId, messageId))) return undefined;
    // A new emoji is first used now; otherwise the row inherits the emoji's first use.
    await this.execute(
      "reaction",
      `INSERT INTO ${this.ks}.message_reactions (channel_id, message_id, emoji, user_id, first_used) VALUES (?, ?, ?, ?, ?)`,
      [channelId, messageId, emoji, userId, tally.firstUsed ?? reactionClock()],
    );
    const [after, still] = await Promise.all([this.emojiTally(channelId, messageId, emoji), this.messageState(channelId, messageId)]);
    if (!still) {
      // Deleted since the check above (its reactions with it): this row must not outlive it.
      await this.deleteReaction(channelId, messageId, emoji, userId);
      return undefined;
    }
    return { added: true, count: after.count };
  }

  async removeReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<boolean | undefined> {
    const [message, own] = await Promise.all([
      this.messageState(channelId, messageId),
      this.ownReaction(channelId, messageId, emoji, userId),
    ]);
    if (!message) return undefined;
    if (!own) return false;
    await this.deleteReaction(channelId, messageId, emoji, userId);
    return true;
  }

  async removeReactions(channelId: bigint, messageId: bigint, emoji: string | undefined): Promise<number | undefined> {
    const where = `WHERE channel_id = ? AND message_id = ?${emoji === undefined ? "" : " AND emoji = ?"}`;
    const params = emoji === undefined ? [channelId, messageId] : [channelId, messageId, emoji];
    const [message, counted] = await Promise.all([
      this.messageState(channelId, messageId),
      this.execute("reactions", `SELECT count(*) AS n FROM ${this.ks}.message_reactions ${where}`, params),
    ]);
    if (!message) return undefined;
    const count = Number(counted.rows[0]?.n ?? 0n);
    // One partition or range tombstone, however many reactions there were.
    if (count > 0) await this.execute("reaction", `DELETE FROM ${this.ks}.message_reactions ${where}`, params);
    return count;
  }

  async listReactionUsers(channelId: bigint, messageId: bigint, emoji: string, after: bigint, limit: number): Promise<bigint[] | undefined> {
    const [message, users] = await Promise.all([
      this.messageState(channelId, messageId),
      this.execute(
        "reactions",
        `SELECT user_id FROM ${this.ks}.message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id > ? LIMIT ?`,
        [channelId, messageId, emoji, after, limit],
      ),
    ]);
    return message ? users.rows.map((r) => r.user_id as bigint) : undefined;
  }

  /** One point lookup per message with reactions: the viewer's rows among the message's emojis. */
  async userReactions(channelId: bigint, userId: bigint, messages: readonly Message[]): Promise<Map<bigint, Set<string>>> {
    const mine = new Map<bigint, Set<string>>();
    await Promise.all(
      messages
        .filter((m) => m.reactions.length > 0)
        .map(async (m) => {
          const result = await this.execute(
            "reactions",
            `SELECT emoji FROM ${this.ks}.message_reactions WHERE channel_id = ? AND message_id = ? AND emoji IN ? AND user_id = ?`,
            [channelId, m.id, m.reactions.map((r) => r.emoji), userId],
          );
          if (result.rows.length > 0) mine.set(m.id, new Set(result.rows.map((r) => r.emoji as string)));
        }),
    );
    return mine;
  }

  /**
   * Sets `messages.reacted`; false when the message does not exist. IF EXISTS: Paxos orders the
   * mark with a delete of the message, and it never creates a row. Concurrent first reactions
   * to one message (all routed to this node by channel) share one lightweight transaction
   * instead of contending for the channel's partition.
   */
  private markReacted(channelId: bigint, messageId: bigint): Promise<boolean> {
    const key = `${channelId}/${messageId}`;
    let marking = this.marking.get(key);
    if (!marking) {
      marking = this.execute(
        "reaction",
        `UPDATE ${this.ks}.messages SET reacted = true WHERE channel_id = ? AND bucket = ? AND message_id = ? IF EXISTS`,
        [channelId, bucketOf(messageId), messageId],
      )
        .then((result) => result.wasApplied())
        .finally(() => this.marking.delete(key));
      this.marking.set(key, marking);
    }
    return marking;
  }

  /** Whether the message exists, and whether it was ever reacted to. */
  private async messageState(channelId: bigint, messageId: bigint): Promise<{ reacted: boolean } | undefined> {
    const result = await this.execute(
      "get",
      `SELECT author_id, reacted FROM ${this.ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?`,
      [channelId, bucketOf(messageId), messageId],
    );
    const row = result.rows[0];
    return row && isWhole(row) ? { reacted: row.reacted === true } : undefined;
  }

  /** The emoji's count and first use on the message (count 0, no first use, when nobody reacts with it). */
  private async emojiTally(channelId: bigint, messageId: bigint, emoji: string): Promise<{ count: number; firstUsed?: bigint }> {
    const result = await this.execute(
      "reactions",
      `SELECT count(*) AS n, min(first_used) AS first_used FROM ${this.ks}.message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ?`,
      [channelId, messageId, emoji],
    );
    const row = result.rows[0];
    return { count: Number(row?.n ?? 0n), firstUsed: (row?.first_used as bigint | null) ?? undefined };
  }

  private async ownReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<boolean> {
    const result = await this.execute(
      "reactions",
      `SELECT user_id FROM ${this.ks}.message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ?`,
      [channelId, messageId, emoji, userId],
    );
    return result.rows.length > 0;
  }

  private async deleteReaction(channelId: bigint, messageId: bigint, emoji: string, userId: bigint): Promise<void> {
    await this.execute(
      "reaction",
      `DELETE FROM ${this.ks}.message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ?`,
      [channelId, messageId, emoji, userId],
    );
  }

  /**
   * Decodes whole message rows and sets their reactions: one GROUP BY query per message marked
   * `reacted` (all in parallel), none for the others.
   */
  private async withReactions(channelId: bigint, rows: readonly cassandra.types.Row[]): Promise<Message[]> {
    const out: Message[] = [];
    const pending: Promise<void>[] = [];
    for (const row of rows) {
      const message = this.decode(row);
      if (!message) continue;
      out.push(message);
      if (row.reacted === true) {
        pending.push(this.tallies(channelId, message.id).then((tallies) => void (message.reactions = orderedReactions(tallies))));
      }
    }
    await Promise.all(pending);
    return out;
  }

  private async tallies(channelId: bigint, messageId: bigint): Promise<ReactionTally[]> {
    const result = await this.execute(
      "reactions",
      `SELECT emoji, count(*) AS n, min(first_used) AS first_used FROM ${this.ks}.message_reactions
       WHERE channel_id = ? AND message_id = ? GROUP BY emoji`,
      [channelId, messageId],
    );
    return result.rows.map((r) => ({ emoji: r.emoji as string, count: Number(r.n), firstUsed: r.first_used as bigint }));
  }

  private decode(row: cassandra.types.Row): Message | undefined {
    if (!isWhole(row)) return undefined; // never a half row
    return messageFrom({
      id: row.message_id as bigint,
      channelId: row.channel_id as bigint,
      guildId: (row.guild_id as bigint | null) ?? 0n,
      authorId: row.author_id as bigint,
      content: (row.content as string | null) ?? "",
      type: (row.type as number | null) ?? 0,
      // CQL int is signed; flags are an unsigned 32-bit field.
      flags: ((row.flags as number | null) ?? 0) >>> 0,
      editedTimestamp: row.edited_at ? timestampFromDate(row.edited_at as Date) : undefined,
      tts: Boolean(row.tts),
      mentionEveryone: Boolean(row.mention_everyone),
      mentions: (row.mentions as bigint[] | null) ?? [],
      mentionRoles: (row.mention_roles as bigint[] | null) ?? [],
      pinned: Boolean(row.pinned),
      attachments: decodeAttachments(row.attachments as string | null),
      embeds: decodeObjects(row.embeds as string | null),
      components: decodeObjects(row.components as string | null),
      messageReference: decodeReference(row.message_reference as string | null),
      webhookId: (row.webhook_id as bigint | null) ?? 0n,
      applicationId: (row.application_id as bigint | null) ?? 0n,
      interactionMetadata: decodeObject(row.interaction_metadata as string | null),
      nonce: (row.nonce as string | null) ?? "",
      authorUsernameOverride: (row.author_username as string | null) ?? "",
      authorAvatarOverride: (row.author_avatar as string | null) ?? "",
    });
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
