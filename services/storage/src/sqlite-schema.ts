import Database from "better-sqlite3";
import type { QueryHook } from "./message-store.js";
import { StoreUnavailableError } from "./storage-errors.js";

/**
 * Versioned schema migrations of the embedded database file, applied in order by
 * `openSqliteDatabase()`. Each runs once, in its own
 * transaction together with its schema_migrations row, so a crash mid-migration leaves
 * nothing half-applied and re-opening a database applies only what is missing. New versions
 * go at the end; an applied migration is never edited.
 */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "messages by (channel, id), pins per channel",
    sql: `
      -- Ids are snowflakes, stored as SQLite's signed 64-bit INTEGER (identical to the
      -- snowflake below 2^63, i.e. until 2084). The primary key is the table's clustered
      -- b-tree (WITHOUT ROWID), so a page of history is one index range scan.
      -- bucket: the 10-day window of the id (buckets.ts), kept for parity with Cassandra's
      -- partition key; queries do not need it.
      CREATE TABLE messages (
        channel_id           INTEGER NOT NULL,
        message_id           INTEGER NOT NULL,
        bucket               INTEGER NOT NULL,
        guild_id             INTEGER NOT NULL DEFAULT 0,
        author_id            INTEGER NOT NULL,
        content              TEXT    NOT NULL DEFAULT '',
        type                 INTEGER NOT NULL DEFAULT 0,
        flags                INTEGER NOT NULL DEFAULT 0,
        edited_at            INTEGER,           -- ms since the Unix epoch; NULL until edited
        tts                  INTEGER NOT NULL DEFAULT 0,
        mention_everyone     INTEGER NOT NULL DEFAULT 0,
        mentions             TEXT,              -- JSON array of decimal ids; NULL when empty
        mention_roles        TEXT,              -- JSON array of decimal ids; NULL when empty
        pinned               INTEGER NOT NULL DEFAULT 0,
        attachments          TEXT,              -- JSON (message-codec.ts); NULL when empty
        embeds               TEXT,
        components           TEXT,
        message_reference    TEXT,
        webhook_id           INTEGER NOT NULL DEFAULT 0,
        application_id       INTEGER NOT NULL DEFAULT 0,
        interaction_metadata TEXT,
        nonce                TEXT    NOT NULL DEFAULT '',
        author_username      TEXT    NOT NULL DEFAULT '',
        author_avatar        TEXT    NOT NULL DEFAULT '',
        PRIMARY KEY (channel_id, message_id)
      ) WITHOUT ROWID;

      CREATE TABLE pins (
        channel_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        pinned_at  INTEGER NOT NULL,            -- ms since the Unix epoch
        PRIMARY KEY (channel_id, message_id)
      ) WITHOUT ROWID;
      -- The channel's pin list in its listed order: most recently pinned first, ties newest first.
      CREATE INDEX pins_by_time ON pins (channel_id, pinned_at DESC, message_id DESC);
    `,
  },
  {
    version: 2,
    name: "user accounts and access tokens",
    sql: `
      -- user_id is the snowflake (signed 64-bit, like messages) and the table's rowid.
      -- username_key / email_key are the lowercase forms (account-store.ts loginKey): the
      -- UNIQUE constraints make uniqueness case-insensitive. An account without an email has
      -- NULL there, which UNIQUE allows any number of times.
      CREATE TABLE users (
        user_id       INTEGER PRIMARY KEY,
        username      TEXT    NOT NULL,
        username_key  TEXT    NOT NULL UNIQUE,
        global_name   TEXT,
        avatar        TEXT,
        bot           INTEGER NOT NULL DEFAULT 0,
        system        INTEGER NOT NULL DEFAULT 0,
        flags         INTEGER NOT NULL DEFAULT 0,
        email         TEXT,
        email_key     TEXT    UNIQUE,
        verified      INTEGER NOT NULL DEFAULT 0,
        locale        TEXT    NOT NULL DEFAULT '',
        password_hash TEXT    NOT NULL DEFAULT ''
      );

      -- Tokens by the SHA-256 of the token; the token itself is never stored.
      CREATE TABLE tokens (
        token_hash BLOB    PRIMARY KEY,
        user_id    INTEGER NOT NULL,
        kind       INTEGER NOT NULL,
        created_at INTEGER NOT NULL             -- ms since the Unix epoch
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "guild event logs, guild snapshots, user guild index",
    sql: `
      -- A guild's log in seq order; the primary key refuses a seq twice. An append is one
      -- IMMEDIATE transaction that checks guild_heads, inserts its events and moves the head
      -- (sqlite-guild-store.ts), mirroring Cassandra's conditional batch.
      CREATE TABLE guild_events (
        guild_id   INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        payload    BLOB    NOT NULL,
        type       TEXT    NOT NULL,
        created_at INTEGER NOT NULL,            -- ms since the Unix epoch
        actor_id   INTEGER NOT NULL,
        PRIMARY KEY (guild_id, seq)
      ) WITHOUT ROWID;

      -- The last seq of each guild's log (Cassandra: the static column guild_events.head); it
      -- stays when old events are pruned behind a snapshot.
      CREATE TABLE guild_heads (
        guild_id INTEGER PRIMARY KEY,
        head     INTEGER NOT NULL
      );

      -- The newest snapshot per guild.
      CREATE TABLE guild_snapshots (
        guild_id   INTEGER PRIMARY KEY,
        seq        INTEGER NOT NULL,
        state      BLOB    NOT NULL,
        updated_at INTEGER NOT NULL             -- ms since the Unix epoch
      );

      -- "List my guilds".
      CREATE TABLE user_guilds (
        user_id  INTEGER NOT NULL,
        guild_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, guild_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: "directory: channel ids, invite codes and DM pairs to their owner",
    sql: `
      -- kind: DirectoryKind. A claim inserts unless the key exists (sqlite-guild-store.ts).
      CREATE TABLE directory (
        kind     INTEGER NOT NULL,
        key      TEXT    NOT NULL,
        owner_id INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: "tokens by user, relationships, applications",
    sql: `
      -- RevokeUserTokens; it covers the tokens recorded before this version too.
      CREATE INDEX tokens_by_user ON tokens (user_id, kind);

      -- What a user sees of each peer. type: RelationshipType; nickname NULL for none.
      CREATE TABLE relationships (
        user_id  INTEGER NOT NULL,
        peer_id  INTEGER NOT NULL,
        type     INTEGER NOT NULL,
        since    INTEGER NOT NULL,              -- ms since the Unix epoch, last written
        nickname TEXT,
        PRIMARY KEY (user_id, peer_id)
      ) WITHOUT ROWID;

      CREATE TABLE applications (
        application_id         INTEGER PRIMARY KEY,
        name                   TEXT    NOT NULL,
        description            TEXT    NOT NULL DEFAULT '',
        owner_id               INTEGER NOT NULL,
        bot_user_id            INTEGER,         -- NULL until the application has a bot user
        bot_public             INTEGER NOT NULL DEFAULT 0,
        bot_require_code_grant INTEGER NOT NULL DEFAULT 0,
        icon                   TEXT,
        verify_key             TEXT    NOT NULL DEFAULT '',
        flags                  INTEGER NOT NULL DEFAULT 0
      );
      -- "List my applications", ascending id.
      CREATE INDEX applications_by_owner ON applications (owner_id, application_id);
    `,
  },
  {
    version: 6,
    name: "message reactions",
    sql: `
      -- One row per (message, emoji, user), as Cassandra's per-message partition; counts are
      -- COUNT(*) over the rows. A message's reactions are one index range of the primary key
      -- (emoji, then user ascending: ListReactionUsers is a range scan). first_used: when the
      -- emoji was first used on the message (µs since the Unix epoch; an add copies it from
      -- the emoji's rows already there), which orders a message's reactions.
      CREATE TABLE message_reactions (
        channel_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        emoji      TEXT    NOT NULL,
        user_id    INTEGER NOT NULL,
        first_used INTEGER NOT NULL,
        PRIMARY KEY (channel_id, message_id, emoji, user_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: "push devices and notification settings",
    sql: `
      -- A device belongs to one user at a time (the primary key is the device id, derived from
      -- its token): registering it for another user moves it. Listed by user through the index.
      CREATE TABLE push_devices (
        device_id  TEXT    PRIMARY KEY,
        user_id    INTEGER NOT NULL,
        kind       INTEGER NOT NULL,
        token      TEXT    NOT NULL,
        p256dh     TEXT    NOT NULL,
        auth       TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX push_devices_by_user ON push_devices (user_id, device_id);
      -- Per user and guild (0: private channels): the NotificationSettings message, encoded.
      CREATE TABLE notification_settings (
        user_id  INTEGER NOT NULL,
        guild_id INTEGER NOT NULL,
        settings BLOB    NOT NULL,
        PRIMARY KEY (user_id, guild_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: "channel webhooks",
    sql: `
      -- A webhook by id, its chorus.chat.v1.Webhook encoding (token hash included); listed by
      -- guild (and channel) through the index.
      CREATE TABLE webhooks (
        webhook_id INTEGER PRIMARY KEY,
        guild_id   INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        webhook    BLOB    NOT NULL
      );
      CREATE INDEX webhooks_by_guild ON webhooks (guild_id, channel_id, webhook_id);
    `,
  },
  {
    version: 10,
    name: "application commands",
    sql: `
      -- One row per command, the ApplicationCommand message encoded; guild_id 0: global.
      -- Names are unique per (application, guild, type): writes check it in their transaction.
      CREATE TABLE application_commands (
        command_id     INTEGER PRIMARY KEY,
        application_id INTEGER NOT NULL,
        guild_id       INTEGER NOT NULL,
        command        BLOB    NOT NULL
      );
      CREATE INDEX application_commands_by_scope ON application_commands (application_id, guild_id, command_id);
    `,
  },
  {
    version: 11,
    name: "applications' interaction keys and endpoint",
    sql: `
      -- The Ed25519 private key (hex seed) interactions are signed with, and the endpoint URL.
      ALTER TABLE applications ADD COLUMN private_key TEXT NOT NULL DEFAULT '';
      ALTER TABLE applications ADD COLUMN interactions_endpoint_url TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 12,
    name: "webhook tokens",
    sql: `
      -- The token itself, shown to managers as on Discord (NULL for webhooks made before: only
      -- their hash is known). Kept beside the encoding, which stays token-free.
      ALTER TABLE webhooks ADD COLUMN webhook_token TEXT;
    `,
  },
];

/** A snowflake as bound to SQLite's signed 64-bit INTEGER (and back). */
export const toDb = (id: bigint): bigint => BigInt.asIntN(64, id);
export const fromDb = (value: unknown): bigint => BigInt.asUintN(64, value as bigint);

/** SQLite result codes that mean "the database cannot serve now", not "this request is wrong". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Database.SqliteError)) return false;
  return /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|READONLY|NOMEM)/.test(err.code);
}

/**
 * Opens (creating when missing) the embedded-mode database file with the settings every store
 * on it relies on, and applies the missing migrations. The message store and the account
 * store each open their own connection to the same file; SQLite serializes their writes.
 *
 * - WAL journal with synchronous = FULL: a commit returns only after the WAL is fsynced, so an
 *   acknowledged write survives a process crash and also an OS crash or power loss. NORMAL
 *   would survive a process crash but may lose the last commits on power loss.
 * - 64-bit integers are read as bigint (safeIntegers), never as lossy numbers.
 * - A writer waits up to 5 s for another connection's write lock.
 *
 * `onQuery` counts one "migrate" per migration step.
 */
export function openSqliteDatabase(path: string, onQuery?: QueryHook): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 5000 });
    db.defaultSafeIntegers(true);
    db.pragma("journal_mode = WAL");
    // FULL, not NORMAL: see above (durability of acknowledged writes).
    db.pragma("synchronous = FULL");
    migrate(db, onQuery);
    return db;
  } catch (err) {
    db?.close();
    const message = `sqlite open of ${path} failed: ${(err as Error).message}`;
    throw isUnavailable(err) ? new StoreUnavailableError(message, { cause: err }) : new Error(message, { cause: err });
  }
}

function migrate(db: Database.Database, onQuery?: QueryHook): void {
  onQuery?.("migrate");
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const isApplied = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").pluck();
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  for (const migration of SQLITE_MIGRATIONS) {
    // IMMEDIATE takes the write lock before the check, so two connections or processes
    // opening the same file together cannot both apply a version.
    db.transaction(() => {
      onQuery?.("migrate");
      if (isApplied.get(migration.version) !== undefined) return;
      onQuery?.("migrate");
      db.exec(migration.sql);
      onQuery?.("migrate");
      record.run(migration.version, migration.name, Date.now());
    }).immediate();
  }
}

/** Versions recorded in schema_migrations (for tests and diagnostics). */
export function appliedMigrations(db: Database.Database): number[] {
  return (db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all() as bigint[]).map(Number);
}

/**
 * One store's connection to the database file: opened (and migrated) by `open`, with the
 * store's prepared statements; `run` executes work on them, turning failures that mean "not
 * now" into StoreUnavailableError.
 */
export class SqliteConnection<Statements> {
  private db: Database.Database | undefined;
  private statements: Statements | undefined;

  constructor(
    private readonly path: string,
    private readonly onQuery: QueryHook | undefined,
    private readonly prepare: (db: Database.Database) => Statements,
  ) {}

  open(): void {
    if (this.db) return;
    const db = openSqliteDatabase(this.path, this.onQuery);
    try {
      this.statements = this.prepare(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  /** The open database, or StoreUnavailableError. */
  database(operation: string): Database.Database {
    if (!this.db) throw new StoreUnavailableError(`sqlite ${operation}: the store is not open`);
    return this.db;
  }

  async run<T>(operation: string, work: (statements: Statements) => T): Promise<T> {
    this.database(operation);
    try {
      return work(this.statements!);
    } catch (err) {
      if (isUnavailable(err)) throw new StoreUnavailableError(`sqlite ${operation} failed: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  close(): void {
    const db = this.db;
    this.db = undefined;
    this.statements = undefined;
    db?.close();
  }
}
