import cassandra from "cassandra-driver";
import {
  GuildLogConflictError,
  GuildLogGapError,
  PageCollector,
  type DirectoryClaim,
  type DirectoryKind,
  type GuildEvent,
  type GuildEventInput,
  type GuildEventPage,
  type GuildSnapshotRecord,
  type GuildStore,
  type PutSnapshotResult,
} from "./guild-store.js";
import { CassandraSession, type CassandraStoreOptions } from "./cassandra-session.js";
import { StoreContentionError, StoreUnavailableError } from "./storage-errors.js";

const { errors, types } = cassandra;

/** Attempts of an append whose reply timed out and that turned out not to have landed. */
const MAX_APPEND_ATTEMPTS = 3;
/** Attempts of a snapshot write racing other snapshot writes of the same guild. */
const MAX_SNAPSHOT_ATTEMPTS = 5;
/** Rows per round trip when reading a log (a page holds up to 1000 events). */
const READ_FETCH_ROWS = 100;
/** Attempts of a directory claim whose reply timed out (a claim is idempotent: resending it is safe). */
const MAX_CLAIM_ATTEMPTS = 3;

/**
 * The request may have reached the database and been applied: a server-side write timeout
 * (for a lightweight transaction, Paxos contention or a slow replica) or a client-side one.
 */
function isUnknownOutcome(err: unknown): boolean {
  const cause = err instanceof StoreUnavailableError ? err.cause : err;
  return (
    cause instanceof errors.OperationTimedOutError ||
    (cause instanceof errors.ResponseError && cause.code === types.responseErrorCodes.writeTimeout)
  );
}

const int64 = (value: unknown): bigint | undefined => (value === null || value === undefined ? undefined : (value as bigint));

function decodeEvent(row: cassandra.types.Row): GuildEvent {
  return {
    seq: row.seq as bigint,
    payload: new Uint8Array((row.payload as Buffer | null) ?? Buffer.alloc(0)),
    type: (row.type as string | null) ?? "",
    createdAtMs: (row.created_at as Date | null)?.getTime() ?? 0,
    actorId: int64(row.actor_id) ?? 0n,
  };
}

/**
 * Guild logs, snapshots and the user guild index on Cassandra/ScyllaDB, with the semantics of
 * the SQLite store (guild-store.ts; proved by test/guild-conformance.ts).
 *
 * **Appends** are one conditional batch on the guild's partition of guild_events:
 *
 *     UPDATE guild_events SET head = <last> WHERE guild_id = ? IF head = <expected_seq>
 *     INSERT INTO guild_events (guild_id, seq, ...) VALUES (?, <expected_seq+1>, ...) IF NOT EXISTS
 *     ... one INSERT per event
 *
 * All the conditions of a single-partition batch are evaluated and applied together in one
 * Paxos round, so of concurrent appends at one expected_seq exactly one lands, and an append
 * lands whole or not at all. `head` is a static column (one per partition); `IF head = null`
 * stands for expected_seq 0. When the batch is refused, Cassandra returns the current head
 * and the rows that already exist, which tell "moved past" (ABORTED) from "beyond the end"
 * (FAILED_PRECONDITION).
 *
 * **Unknown outcomes.** A lightweight transaction whose reply times out may or may not have
 * been applied. Every row carries the `append_id` of the append that wrote it, so the store
 * then reads the first row at SERIAL consistency (which completes any Paxos round in flight):
 * its own id means it landed, another id means another append won, no row means it did not
 * land and is tried again (MAX_APPEND_ATTEMPTS). Only when that read fails too does the caller
 * get UNAVAILABLE with the outcome unknown.
 *
 * **Snapshots** keep the newest: `UPDATE ... IF seq <= ?` replaces a snapshot with a lower or
 * equal seq; when the guild has none yet, `INSERT ... IF NOT EXISTS`; when both are refused
 * because another writer got in between, the store decides again from what it read.
 *
 * **User guilds** are plain idempotent writes (INSERT / DELETE of a key).
 *
 * **Directory** entries are written only with lightweight transactions: a claim is
 * `INSERT ... IF NOT EXISTS`, whose refusal carries the holder; a release is
 * `DELETE ... IF owner_id = ?`. A claim whose reply timed out is sent again: if the first one
 * landed, the second finds the claimer as holder, which is the same answer.
 */
export class CassandraGuildStore implements GuildStore {
  readonly backend = "cassandra" as const;
  private readonly session: CassandraSession;
  private readonly ks: string;

  constructor(options: CassandraStoreOptions) {
    this.session = new CassandraSession(options);
    this.ks = this.session.keyspace;
  }

  open(): Promise<void> {
    return this.session.open();
  }

  async append(guildId: bigint, expectedSeq: bigint, events: readonly GuildEventInput[]): Promise<bigint> {
    const lastSeq = expectedSeq + BigInt(events.length);
    for (let attempt = 1; ; attempt++) {
      const appendId = types.Uuid.random();
      const queries = [
        {
          query: `UPDATE ${this.ks}.guild_events SET head = ? WHERE guild_id = ? IF head = ?`,
          params: [lastSeq, guildId, expectedSeq === 0n ? null : expectedSeq],
        },
        ...events.map((event, i) => ({
          query: `INSERT INTO ${this.ks}.guild_events (guild_id, seq, payload, type, created_at, actor_id, append_id) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
          params: [guildId, expectedSeq + BigInt(i + 1), Buffer.from(event.payload), event.type, new Date(event.createdAtMs), event.actorId, appendId],
        })),
      ];
      let result: cassandra.types.ResultSet;
      try {
        result = await this.session.batch("append_guild_events", queries);
      } catch (err) {
        if (!isUnknownOutcome(err)) throw err;
        const outcome = await this.outcomeOf(guildId, expectedSeq, appendId, err);
        if (outcome === "applied") return lastSeq;
        if (attempt >= MAX_APPEND_ATTEMPTS) throw err;
        continue;
      }
      if (result.wasApplied()) return lastSeq;
      throw refusal(guildId, expectedSeq, result.rows);
    }
  }

  /**
   * Whether an append whose reply was lost landed: "applied", "absent" (it did not, and can
   * no longer: the SERIAL read finished any round in flight), or GuildLogConflictError when
   * another append holds its first seq.
   */
  private async outcomeOf(guildId: bigint, expectedSeq: bigint, appendId: cassandra.types.Uuid, original: unknown): Promise<"applied" | "absent"> {
    let row: cassandra.types.Row | undefined;
    try {
      row = (
        await this.session.execute(
          "append_outcome",
          `SELECT head, append_id FROM ${this.ks}.guild_events WHERE guild_id = ? AND seq = ?`,
          [guildId, expectedSeq + 1n],
          { consistency: types.consistencies.localSerial },
        )
      ).first();
    } catch (err) {
      throw new StoreUnavailableError(
        `cassandra append_guild_events: the outcome is unknown (${(original as Error).message}; then ${(err as Error).message}); read the head before retrying`,
        { cause: original },
      );
    }
    if (!row) return "absent";
    if ((row.append_id as cassandra.types.Uuid | null)?.equals(appendId)) return "applied";
    throw new GuildLogConflictError(guildId, expectedSeq, int64(row.head) ?? 0n);
  }

  async read(guildId: bigint, afterSeq: bigint, limit: number): Promise<GuildEventPage> {
    const page = new PageCollector(limit);
    let pageState: string | undefined;
    do {
      const result = await this.session.execute(
        "read_guild_events",
        `SELECT seq, payload, type, created_at, actor_id FROM ${this.ks}.guild_events WHERE guild_id = ? AND seq > ? LIMIT ?`,
        [guildId, afterSeq, limit + 1],
        { fetchSize: READ_FETCH_ROWS, pageState },
      );
      for (const row of result.rows) if (!page.offer(decodeEvent(row))) return page.page();
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return page.page();
  }

  async head(guildId: bigint): Promise<bigint> {
    const row = (await this.session.execute("guild_head", `SELECT head FROM ${this.ks}.guild_events WHERE guild_id = ? LIMIT 1`, [guildId])).first();
    return int64(row?.head) ?? 0n;
  }

  async putSnapshot(guildId: bigint, seq: bigint, state: Uint8Array): Promise<PutSnapshotResult> {
    const blob = Buffer.from(state);
    for (let attempt = 0; attempt < MAX_SNAPSHOT_ATTEMPTS; attempt++) {
      const updated = await this.session.execute(
        "put_guild_snapshot",
        `UPDATE ${this.ks}.guild_snapshots SET seq = ?, state = ?, updated_at = ? WHERE guild_id = ? IF seq <= ?`,
        [seq, blob, new Date(), guildId, seq],
      );
      if (updated.wasApplied()) return { stored: true, seq };
      const stored = int64(updated.first()?.seq);
      if (stored !== undefined) {
        if (stored > seq) return { stored: false, seq: stored };
        continue; // replaced by a lower or equal seq meanwhile: decide again
      }
      // No snapshot yet.
      const inserted = await this.session.execute(
        "put_guild_snapshot",
        `INSERT INTO ${this.ks}.guild_snapshots (guild_id, seq, state, updated_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
        [guildId, seq, blob, new Date()],
      );
      if (inserted.wasApplied()) return { stored: true, seq };
      const first = int64(inserted.first()?.seq);
      if (first !== undefined && first > seq) return { stored: false, seq: first };
    }
    throw new StoreContentionError(`guild ${guildId}: snapshot writes kept racing (${MAX_SNAPSHOT_ATTEMPTS} attempts); retry`);
  }

  async getSnapshot(guildId: bigint): Promise<GuildSnapshotRecord | undefined> {
    const row = (
      await this.session.execute("get_guild_snapshot", `SELECT seq, state, updated_at FROM ${this.ks}.guild_snapshots WHERE guild_id = ?`, [guildId])
    ).first();
    if (!row) return undefined;
    return {
      seq: row.seq as bigint,
      state: new Uint8Array((row.state as Buffer | null) ?? Buffer.alloc(0)),
      updatedAtMs: (row.updated_at as Date).getTime(),
    };
  }

  async addUserGuild(userId: bigint, guildId: bigint): Promise<void> {
    await this.session.execute("add_user_guild", `INSERT INTO ${this.ks}.user_guilds (user_id, guild_id) VALUES (?, ?)`, [userId, guildId]);
  }

  async removeUserGuild(userId: bigint, guildId: bigint): Promise<void> {
    await this.session.execute("remove_user_guild", `DELETE FROM ${this.ks}.user_guilds WHERE user_id = ? AND guild_id = ?`, [userId, guildId]);
  }

  async listUserGuilds(userId: bigint, afterGuildId: bigint, limit: number): Promise<bigint[]> {
    const result = await this.session.execute(
      "list_user_guilds",
      `SELECT guild_id FROM ${this.ks}.user_guilds WHERE user_id = ? AND guild_id > ? LIMIT ?`,
      [userId, afterGuildId, limit],
      // One round trip: the limit is at most 1000.
      { fetchSize: limit },
    );
    return result.rows.map((row) => row.guild_id as bigint);
  }

  async claimDirectoryEntry(kind: DirectoryKind, key: string, ownerId: bigint): Promise<DirectoryClaim> {
    for (let attempt = 1; ; attempt++) {
      let result: cassandra.types.ResultSet;
      try {
        result = await this.session.execute(
          "claim_directory_entry",
          `INSERT INTO ${this.ks}.directory (kind, key, owner_id) VALUES (?, ?, ?) IF NOT EXISTS`,
          [kind, key, ownerId],
        );
      } catch (err) {
        if (isUnknownOutcome(err) && attempt < MAX_CLAIM_ATTEMPTS) continue;
        throw err;
      }
      if (result.wasApplied()) return { claimed: true, ownerId };
      const holder = result.first().owner_id as bigint;
      return { claimed: holder === ownerId, ownerId: holder };
    }
  }

  async getDirectoryEntry(kind: DirectoryKind, key: string): Promise<bigint | undefined> {
    const row = (
      await this.session.execute("get_directory_entry", `SELECT owner_id FROM ${this.ks}.directory WHERE kind = ? AND key = ?`, [kind, key])
    ).first();
    return int64(row?.owner_id);
  }

  async releaseDirectoryEntry(kind: DirectoryKind, key: string, ownerId: bigint): Promise<boolean> {
    const result = await this.session.execute(
      "release_directory_entry",
      `DELETE FROM ${this.ks}.directory WHERE kind = ? AND key = ? IF owner_id = ?`,
      [kind, key, ownerId],
    );
    return result.wasApplied();
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * Why a conditional append batch was refused, from the rows Cassandra returned: the current
 * head (static, on every row) and any event rows that already exist.
 */
function refusal(guildId: bigint, expectedSeq: bigint, rows: cassandra.types.Row[]): Error {
  const head = rows.map((r) => int64(r.head)).find((h) => h !== undefined) ?? 0n;
  if (head > expectedSeq) return new GuildLogConflictError(guildId, expectedSeq, head);
  if (head < expectedSeq) return new GuildLogGapError(guildId, expectedSeq, head);
  const taken = rows
    .map((r) => int64(r.seq))
    .filter((s): s is bigint => s !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0];
  return new GuildLogConflictError(guildId, expectedSeq, head, taken);
}
