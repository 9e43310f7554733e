import type { Client } from "cassandra-driver";

/**
 * Versioned CQL migrations, applied in order at start-up. Each statement is idempotent
 * (IF NOT EXISTS), and the versions already applied are recorded in schema_migrations, so a
 * restart — or two storage nodes starting together — applies nothing twice. New tables (the
 * guild and user data of later work) are added as new versions at the end of this list.
 */
export interface Migration {
  version: number;
  name: string;
  statements: (keyspace: string) => string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "messages in 10-day buckets, pins per channel",
    statements: (ks) => [
      // One partition per channel per 10-day bucket, newest message first: loading a channel
      // reads the head of one partition.
      `CREATE TABLE IF NOT EXISTS ${ks}.messages (
        channel_id bigint,
        bucket int,
        message_id bigint,
        guild_id bigint,
        author_id bigint,
        content text,
        type int,
        flags int,
        edited_at timestamp,
        tts boolean,
        mention_everyone boolean,
        mentions list<bigint>,
        mention_roles list<bigint>,
        pinned boolean,
        attachments text,
        embeds text,
        components text,
        message_reference text,
        webhook_id bigint,
        application_id bigint,
        interaction_metadata text,
        nonce text,
        author_username text,
        author_avatar text,
        PRIMARY KEY ((channel_id, bucket), message_id)
      ) WITH CLUSTERING ORDER BY (message_id DESC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.channel_pins (
        channel_id bigint,
        message_id bigint,
        pinned_at timestamp,
        PRIMARY KEY (channel_id, message_id)
      ) WITH CLUSTERING ORDER BY (message_id DESC)`,
    ],
  },
  {
    version: 2,
    name: "user accounts, unique usernames and emails, access tokens",
    statements: (ks) => [
      // One partition per account. The password hash is a column read only by logins.
      `CREATE TABLE IF NOT EXISTS ${ks}.users (
        user_id bigint PRIMARY KEY,
        username text,
        global_name text,
        avatar text,
        bot boolean,
        system boolean,
        flags bigint,
        email text,
        verified boolean,
        locale text,
        password_hash text
      )`,
      // Uniqueness: a name belongs to the account that claimed it first with
      // INSERT ... IF NOT EXISTS (Paxos). Keys are lowercase (account-store.ts loginKey).
      `CREATE TABLE IF NOT EXISTS ${ks}.users_by_username (
        username_key text PRIMARY KEY,
        user_id bigint
      )`,
      `CREATE TABLE IF NOT EXISTS ${ks}.users_by_email (
        email_key text PRIMARY KEY,
        user_id bigint
      )`,
      // Tokens by the SHA-256 of the token; the token itself is never stored.
      `CREATE TABLE IF NOT EXISTS ${ks}.tokens (
        token_hash blob PRIMARY KEY,
        user_id bigint,
        kind int,
        created_at timestamp
      )`,
    ],
  },
  {
    version: 3,
    name: "guild event logs, guild snapshots, user guild index",
    statements: (ks) => [
      // One partition per guild, events in seq order. Every write is a lightweight
      // transaction: an append is one single-partition conditional batch, `head = expected_seq`
      // on the static column plus `INSERT ... IF NOT EXISTS` per event, which Paxos applies
      // all together or not at all (cassandra-guild-store.ts). `head` is the last seq (cheap to
      // read, and it stays when old events are pruned behind a snapshot). `append_id` names
      // the append that wrote a row, so an append whose reply timed out can learn whether it
      // landed. The partition grows with the guild's history until pruning exists.
      `CREATE TABLE IF NOT EXISTS ${ks}.guild_events (
        guild_id bigint,
        seq bigint,
        head bigint static,
        payload blob,
        type text,
        created_at timestamp,
        actor_id bigint,
        append_id uuid,
        PRIMARY KEY ((guild_id), seq)
      ) WITH CLUSTERING ORDER BY (seq ASC)`,
      // The newest snapshot per guild, replaced only by one with the same or a higher seq
      // (UPDATE ... IF seq <= ?, INSERT ... IF NOT EXISTS for the first).
      `CREATE TABLE IF NOT EXISTS ${ks}.guild_snapshots (
        guild_id bigint PRIMARY KEY,
        seq bigint,
        state blob,
        updated_at timestamp
      )`,
      // "List my guilds": one partition per user, guild ids ascending.
      `CREATE TABLE IF NOT EXISTS ${ks}.user_guilds (
        user_id bigint,
        guild_id bigint,
        PRIMARY KEY ((user_id), guild_id)
      ) WITH CLUSTERING ORDER BY (guild_id ASC)`,
    ],
  },
  {
    version: 4,
    name: "directory: channel ids, invite codes and DM pairs to their owner",
    statements: (ks) => [
      // One small partition per key. Claims are INSERT ... IF NOT EXISTS and releases
      // DELETE ... IF owner_id = ? (Paxos: of concurrent claims exactly one wins); every write
      // is a lightweight transaction (cassandra-guild-store.ts). kind: DirectoryKind.
      `CREATE TABLE IF NOT EXISTS ${ks}.directory (
        kind int,
        key text,
        owner_id bigint,
        PRIMARY KEY ((kind, key))
      )`,
    ],
  },
  {
    version: 5,
    name: "tokens by user, relationships, applications",
    statements: (ks) => [
      // Every token of a user, for RevokeUserTokens: written by CreateToken before the token
      // itself (a token that exists is never missing here), removed when the token is
      // revoked. An entry without its token (a create that failed, or is in flight) is
      // ignored, and removed by RevokeUserTokens once created_at is older than any create can
      // take. Tokens recorded before this version are not listed (no production data existed
      // then).
      `CREATE TABLE IF NOT EXISTS ${ks}.tokens_by_user (
        user_id bigint,
        kind int,
        token_hash blob,
        created_at timestamp,
        PRIMARY KEY ((user_id), kind, token_hash)
      )`,
      // What a user sees of each peer: one partition per user, peers ascending. type:
      // RelationshipType; since: when this side was last written.
      `CREATE TABLE IF NOT EXISTS ${ks}.relationships (
        user_id bigint,
        peer_id bigint,
        type int,
        since timestamp,
        nickname text,
        PRIMARY KEY ((user_id), peer_id)
      ) WITH CLUSTERING ORDER BY (peer_id ASC)`,
      // One partition per application; created IF NOT EXISTS, updated IF EXISTS.
      `CREATE TABLE IF NOT EXISTS ${ks}.applications (
        application_id bigint PRIMARY KEY,
        name text,
        description text,
        owner_id bigint,
        bot_user_id bigint,
        bot_public boolean,
        bot_require_code_grant boolean,
        icon text,
        verify_key text,
        flags bigint
      )`,
      // "List my applications": written before the application row, so an application is
      // never missing here; an entry without its application (a create that failed) is
      // ignored. owner_id never changes.
      `CREATE TABLE IF NOT EXISTS ${ks}.applications_by_owner (
        owner_id bigint,
        application_id bigint,
        PRIMARY KEY ((owner_id), application_id)
      ) WITH CLUSTERING ORDER BY (application_id ASC)`,
    ],
  },
  {
    version: 6,
    name: "message reactions",
    statements: (ks) => [
      // One partition per message, a row per (emoji, user): counts are derived from the rows
      // (count(*) ... GROUP BY emoji), never kept in counters, which cannot be made idempotent
      // and drift when a write is retried. Concurrent reactions of different users are
      // different rows, so they never conflict. first_used: when the emoji was first used on
      // the message (µs since the Unix epoch; an add copies it from the emoji's rows already
      // there), which orders a message's reactions. Users of one emoji are a clustering range,
      // ascending (ListReactionUsers). Deleting the message deletes the partition.
      `CREATE TABLE IF NOT EXISTS ${ks}.message_reactions (
        channel_id bigint,
        message_id bigint,
        emoji text,
        user_id bigint,
        first_used bigint,
        PRIMARY KEY ((channel_id, message_id), emoji, user_id)
      ) WITH CLUSTERING ORDER BY (emoji ASC, user_id ASC)`,
      // Set (with IF EXISTS) by a message's first reaction and never cleared: a page of
      // history reads the reactions of the messages marked so, and nothing for the others.
      `ALTER TABLE ${ks}.messages ADD IF NOT EXISTS reacted boolean`,
    ],
  },
  {
    version: 7,
    name: "push devices and notification settings",
    statements: (ks) => [
      // A user's devices: one partition per user (Notify reads the devices of its recipients).
      `CREATE TABLE IF NOT EXISTS ${ks}.push_devices (
        user_id bigint,
        device_id text,
        kind int,
        device_token text,
        p256dh text,
        auth text,
        name text,
        created_at timestamp,
        PRIMARY KEY ((user_id), device_id)
      )`,
      // Which user a device (a token) belongs to now: registering it for another user moves it.
      `CREATE TABLE IF NOT EXISTS ${ks}.push_device_owners (
        device_id text PRIMARY KEY,
        user_id bigint
      )`,
      // Per user and guild (0: private channels): the NotificationSettings message, encoded.
      `CREATE TABLE IF NOT EXISTS ${ks}.notification_settings (
        user_id bigint,
        guild_id bigint,
        settings blob,
        PRIMARY KEY ((user_id), guild_id)
      )`,
    ],
  },
  {
    version: 8,
    name: "channel webhooks",
    statements: (ks) => [
      // A webhook by id (execute, get): its chorus.chat.v1.Webhook encoding, token hash included.
      `CREATE TABLE IF NOT EXISTS ${ks}.webhooks (
        webhook_id bigint PRIMARY KEY,
        webhook blob
      )`,
      // A guild's webhooks, one partition per guild (lists by guild or channel), ascending id.
      `CREATE TABLE IF NOT EXISTS ${ks}.webhooks_by_guild (
        guild_id bigint,
        webhook_id bigint,
        channel_id bigint,
        webhook blob,
        PRIMARY KEY ((guild_id), webhook_id)
      ) WITH CLUSTERING ORDER BY (webhook_id ASC)`,
    ],
  },
  {
    version: 10,
    name: "application commands",
    statements: (ks) => [
      // One partition per (application, guild) scope (guild 0: global), at most 130 commands.
      // `revision` (static) is bumped by every write with a conditional batch: the writes to a
      // scope are serialized by Paxos, so names stay unique and the limits hold.
      `CREATE TABLE IF NOT EXISTS ${ks}.application_commands (
        application_id bigint,
        guild_id bigint,
        revision bigint static,
        command_id bigint,
        command blob,
        PRIMARY KEY ((application_id, guild_id), command_id)
      )`,
      // Command id -> its scope, so a command is found by id alone (written before the command).
      `CREATE TABLE IF NOT EXISTS ${ks}.application_command_scopes (
        command_id bigint PRIMARY KEY,
        application_id bigint,
        guild_id bigint
      )`,
    ],
  },
  {
    version: 11,
    name: "applications' interaction keys and endpoint",
    statements: (ks) => [
      // The Ed25519 private key (hex seed) interactions are signed with, and the endpoint URL.
      `ALTER TABLE ${ks}.applications ADD IF NOT EXISTS private_key text`,
      `ALTER TABLE ${ks}.applications ADD IF NOT EXISTS interactions_endpoint_url text`,
    ],
  },
  {
    version: 12,
    name: "webhook tokens",
    statements: (ks) => [
      // The token itself, shown to managers as on Discord (null for webhooks made before: only
      // their hash is known). Kept beside the encoding, which stays token-free.
      `ALTER TABLE ${ks}.webhooks ADD IF NOT EXISTS webhook_token text`,
      `ALTER TABLE ${ks}.webhooks_by_guild ADD IF NOT EXISTS webhook_token text`,
    ],
  },
];

/** Parses CHORUS_CASSANDRA_REPLICATION: "SimpleStrategy:1" or "NetworkTopologyStrategy:dc1=3,dc2=3". */
export function replicationCql(spec: string): string {
  const [strategy, rest = ""] = spec.split(":");
  if (strategy === "SimpleStrategy") {
    const rf = Number(rest || "1");
    if (!Number.isInteger(rf) || rf < 1) throw new Error(`replication factor "${rest}" is not a positive integer`);
    return `{'class': 'SimpleStrategy', 'replication_factor': ${rf}}`;
  }
  if (strategy === "NetworkTopologyStrategy") {
    const dcs = rest.split(",").filter(Boolean).map((pair) => {
      const [dc, n] = pair.split("=");
      if (!dc || !/^[A-Za-z0-9_.-]+$/.test(dc) || !Number.isInteger(Number(n)) || Number(n) < 1) {
        throw new Error(`"${pair}" is not datacenter=replicas`);
      }
      return `'${dc}': ${Number(n)}`;
    });
    if (dcs.length === 0) throw new Error("NetworkTopologyStrategy needs at least one datacenter=replicas");
    return `{'class': 'NetworkTopologyStrategy', ${dcs.join(", ")}}`;
  }
  throw new Error(`unknown strategy "${strategy}" (SimpleStrategy:N or NetworkTopologyStrategy:dc=N,...)`);
}

export async function applyMigrations(client: Client, keyspace: string, replication: string): Promise<number[]> {
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationCql(replication)}`);
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations (version int PRIMARY KEY, name text, applied_at timestamp)`,
  );
  const applied = new Set((await client.execute(`SELECT version FROM ${keyspace}.schema_migrations`)).rows.map((r) => r.version as number));
  const now: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements(keyspace)) await client.execute(statement);
    await client.execute(`INSERT INTO ${keyspace}.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, [
      migration.version,
      migration.name,
      new Date(),
    ], { prepare: true });
    now.push(migration.version);
  }
  return now;
}
