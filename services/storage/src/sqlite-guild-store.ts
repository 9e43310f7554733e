import Database from "better-sqlite3";
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
  type QueryHook,
} from "./guild-store.js";
import { SqliteConnection } from "./sqlite-schema.js";

export interface SqliteGuildStoreOptions {
  /** Database file (the message store's), or ":memory:" (one private database per store). */
  path: string;
  /** Called once per SQL statement executed. */
  onQuery?: QueryHook;
}

interface EventRow {
  seq: bigint;
  payload: Buffer;
  type: string;
  created_at: bigint;
  actor_id: bigint;
}

interface SnapshotRow {
  seq: bigint;
  state: Buffer;
  updated_at: bigint;
}

const decodeEvent = (row: EventRow): GuildEvent => ({
  seq: row.seq,
  payload: new Uint8Array(row.payload),
  type: row.type,
  createdAtMs: Number(row.created_at),
  actorId: row.actor_id,
});

type Statements = ReturnType<SqliteGuildStore["prepareStatements"]>;

/**
 * Guild logs, snapshots and the user guild index in the embedded-mode SQLite file, with the
 * semantics of the Cassandra store (guild-store.ts; proved by test/guild-conformance.ts).
 * An append is one IMMEDIATE transaction: it checks the head in guild_heads, inserts the
 * events (the primary key refuses a taken seq, which rolls the whole transaction back) and
 * moves the head. A directory claim is an insert that does nothing when the key exists,
 * followed by a read of the holder in the same transaction. All ids are below 2^63, so they
 * are stored as they are.
 */
export class SqliteGuildStore implements GuildStore {
  readonly backend = "sqlite" as const;
  private readonly connection: SqliteConnection<Statements>;

  constructor(private readonly options: SqliteGuildStoreOptions) {
    this.connection = new SqliteConnection(options.path, options.onQuery, (db) => this.prepareStatements(db));
  }

  async open(): Promise<void> {
    this.connection.open();
  }

  private prepareStatements(db: Database.Database) {
    return {
      head: db.prepare<[bigint], bigint>("SELECT head FROM guild_heads WHERE guild_id = ?").pluck(),
      setHead: db.prepare<[bigint, bigint]>(
        "INSERT INTO guild_heads (guild_id, head) VALUES (?, ?) ON CONFLICT (guild_id) DO UPDATE SET head = excluded.head",
      ),
      insertEvent: db.prepare<[bigint, bigint, Buffer, string, number, bigint]>(
        "INSERT INTO guild_events (guild_id, seq, payload, type, created_at, actor_id) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      events: db.prepare<[bigint, bigint, number], EventRow>(
        "SELECT seq, payload, type, created_at, actor_id FROM guild_events WHERE guild_id = ? AND seq > ? ORDER BY seq LIMIT ?",
      ),
      snapshot: db.prepare<[bigint], SnapshotRow>("SELECT seq, state, updated_at FROM guild_snapshots WHERE guild_id = ?"),
      putSnapshot: db.prepare<[bigint, bigint, Buffer, number]>(
        `INSERT INTO guild_snapshots (guild_id, seq, state, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (guild_id) DO UPDATE SET seq = excluded.seq, state = excluded.state, updated_at = excluded.updated_at
         WHERE excluded.seq >= guild_snapshots.seq`,
      ),
      addUserGuild: db.prepare<[bigint, bigint]>("INSERT INTO user_guilds (user_id, guild_id) VALUES (?, ?) ON CONFLICT DO NOTHING"),
      removeUserGuild: db.prepare<[bigint, bigint]>("DELETE FROM user_guilds WHERE user_id = ? AND guild_id = ?"),
      userGuilds: db.prepare<[bigint, bigint, number], bigint>(
        "SELECT guild_id FROM user_guilds WHERE user_id = ? AND guild_id > ? ORDER BY guild_id LIMIT ?",
      ).pluck(),
      claimDirectoryEntry: db.prepare<[number, string, bigint]>(
        "INSERT INTO directory (kind, key, owner_id) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO NOTHING",
      ),
      directoryEntry: db.prepare<[number, string], bigint>("SELECT owner_id FROM directory WHERE kind = ? AND key = ?").pluck(),
      releaseDirectoryEntry: db.prepare<[number, string, bigint]>("DELETE FROM directory WHERE kind = ? AND key = ? AND owner_id = ?"),
      transaction: <T>(work: () => T): T => db.transaction(work).immediate(),
    };
  }

  private query(operation: string): void {
    this.options.onQuery?.(operation);
  }

  private run<T>(operation: string, work: (s: Statements) => T): Promise<T> {
    return this.connection.run(operation, work);
  }

  append(guildId: bigint, expectedSeq: bigint, events: readonly GuildEventInput[]): Promise<bigint> {
    return this.run("append_guild_events", (s) =>
      s.transaction(() => {
        this.query("guild_head");
        const head = s.head.get(guildId) ?? 0n;
        if (head > expectedSeq) throw new GuildLogConflictError(guildId, expectedSeq, head);
        if (head < expectedSeq) throw new GuildLogGapError(guildId, expectedSeq, head);
        let seq = expectedSeq;
        for (const event of events) {
          seq++;
          this.query("insert_guild_event");
          try {
            s.insertEvent.run(guildId, seq, Buffer.from(event.payload), event.type, event.createdAtMs, event.actorId);
          } catch (err) {
            // A row beyond the head (never written by an append): refuse, and the transaction
            // rolls back the events inserted before it.
            if (err instanceof Database.SqliteError && err.code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
              throw new GuildLogConflictError(guildId, expectedSeq, head, seq);
            }
            throw err;
          }
        }
        this.query("set_guild_head");
        s.setHead.run(guildId, seq);
        return seq;
      }),
    );
  }

  read(guildId: bigint, afterSeq: bigint, limit: number): Promise<GuildEventPage> {
    return this.run("read_guild_events", (s) => {
      this.query("read_guild_events");
      const page = new PageCollector(limit);
      // for...of closes the statement's iterator when the page ends early.
      for (const row of s.events.iterate(guildId, afterSeq, limit + 1)) {
        if (!page.offer(decodeEvent(row))) break;
      }
      return page.page();
    });
  }

  head(guildId: bigint): Promise<bigint> {
    return this.run("guild_head", (s) => {
      this.query("guild_head");
      return s.head.get(guildId) ?? 0n;
    });
  }

  putSnapshot(guildId: bigint, seq: bigint, state: Uint8Array): Promise<PutSnapshotResult> {
    return this.run("put_guild_snapshot", (s) =>
      s.transaction(() => {
        this.query("put_guild_snapshot");
        if (s.putSnapshot.run(guildId, seq, Buffer.from(state), Date.now()).changes > 0) return { stored: true, seq };
        this.query("get_guild_snapshot");
        return { stored: false, seq: s.snapshot.get(guildId)!.seq };
      }),
    );
  }

  getSnapshot(guildId: bigint): Promise<GuildSnapshotRecord | undefined> {
    return this.run("get_guild_snapshot", (s) => {
      this.query("get_guild_snapshot");
      const row = s.snapshot.get(guildId);
      return row ? { seq: row.seq, state: new Uint8Array(row.state), updatedAtMs: Number(row.updated_at) } : undefined;
    });
  }

  addUserGuild(userId: bigint, guildId: bigint): Promise<void> {
    return this.run("add_user_guild", (s) => {
      this.query("add_user_guild");
      s.addUserGuild.run(userId, guildId);
    });
  }

  removeUserGuild(userId: bigint, guildId: bigint): Promise<void> {
    return this.run("remove_user_guild", (s) => {
      this.query("remove_user_guild");
      s.removeUserGuild.run(userId, guildId);
    });
  }

  listUserGuilds(userId: bigint, afterGuildId: bigint, limit: number): Promise<bigint[]> {
    return this.run("list_user_guilds", (s) => {
      this.query("list_user_guilds");
      return s.userGuilds.all(userId, afterGuildId, limit);
    });
  }

  claimDirectoryEntry(kind: DirectoryKind, key: string, ownerId: bigint): Promise<DirectoryClaim> {
    return this.run("claim_directory_entry", (s) =>
      s.transaction(() => {
        this.query("claim_directory_entry");
        if (s.claimDirectoryEntry.run(kind, key, ownerId).changes > 0) return { claimed: true, ownerId };
        this.query("get_directory_entry");
        const holder = s.directoryEntry.get(kind, key)!;
        return { claimed: holder === ownerId, ownerId: holder };
      }),
    );
  }

  getDirectoryEntry(kind: DirectoryKind, key: string): Promise<bigint | undefined> {
    return this.run("get_directory_entry", (s) => {
      this.query("get_directory_entry");
      return s.directoryEntry.get(kind, key);
    });
  }

  releaseDirectoryEntry(kind: DirectoryKind, key: string, ownerId: bigint): Promise<boolean> {
    return this.run("release_directory_entry", (s) => {
      this.query("release_directory_entry");
      return s.releaseDirectoryEntry.run(kind, key, ownerId).changes > 0;
    });
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}
