import type cassandra from "cassandra-driver";
import { create } from "@bufbuild/protobuf";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { ApplicationSchema, type TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import {
  AccountConflictError,
  emailKeyOf,
  isEmailLogin,
  isSameApplication,
  loginKey,
  type AccountStore,
  type Application,
  type ApplicationPatch,
  type RelationshipRecord,
  type TokenRecord,
  type User,
  type UserPatch,
  type UserWithPassword,
} from "./account-store.js";
import { CassandraSession, type CassandraStoreOptions } from "./cassandra-session.js";
import { StoreContentionError } from "./storage-errors.js";

export interface CassandraAccountStoreOptions extends CassandraStoreOptions {
  /**
   * How long a name claim must have existed, while its holder's account does not carry that
   * name, before another account may take it over. It must exceed the time a create or rename
   * can take between claiming and writing the account (a few driver timeouts). The same
   * delay applies to an entry of tokens_by_user whose token does not exist: only once it is
   * this old can no CreateToken in flight still write the token, and RevokeUserTokens
   * removes it.
   */
  claimSettleMs?: number;
}

/** A lookup table that makes one account field unique. */
interface ClaimTable {
  table: "users_by_username" | "users_by_email";
  column: "username_key" | "email_key";
  field: "username" | "email";
}

const USERNAMES: ClaimTable = { table: "users_by_username", column: "username_key", field: "username" };
const EMAILS: ClaimTable = { table: "users_by_email", column: "email_key", field: "email" };

/** The key an account holds in a claim table, or undefined (an account without an email). */
function keyIn(claims: ClaimTable, user: Pick<User, "username" | "email">): string | undefined {
  return claims.field === "username" ? loginKey(user.username) : emailKeyOf(user);
}

const USER_COLUMNS = ["user_id", "username", "global_name", "avatar", "bot", "system", "flags", "email", "verified", "locale"] as const;

/** The settable column of each patch field. */
const PATCH_COLUMNS: Record<keyof UserPatch, string> = {
  username: "username",
  globalName: "global_name",
  avatar: "avatar",
  email: "email",
  verified: "verified",
  flags: "flags",
  locale: "locale",
  passwordHash: "password_hash",
};

const DEFAULT_CLAIM_SETTLE_MS = 60_000;
const MAX_UPDATE_ATTEMPTS = 3;
/** Lightweight transactions RevokeUserTokens and ListApplications run at once. */
const PARALLEL_REQUESTS = 16;
/** Index entries removed per (single-partition, unlogged) batch. */
const UNINDEX_BATCH = 100;

const APPLICATION_COLUMNS = [
  "application_id", "name", "description", "owner_id", "bot_user_id", "bot_public", "bot_require_code_grant", "icon", "verify_key", "flags",
  "private_key", "interactions_endpoint_url",
] as const;

/** The column of each application patch field. */
const APPLICATION_PATCH_COLUMNS: Record<keyof ApplicationPatch, string> = {
  name: "name",
  description: "description",
  botUserId: "bot_user_id",
  botPublic: "bot_public",
  botRequireCodeGrant: "bot_require_code_grant",
  icon: "icon",
  verifyKey: "verify_key",
  flags: "flags",
  privateKey: "private_key",
  interactionsEndpointUrl: "interactions_endpoint_url",
};

/** The value of each of APPLICATION_COLUMNS for `app`, in that order (flags as a signed bigint). */
function applicationValues(app: Application): unknown[] {
  return [
    app.id, app.name, app.description, app.ownerId, app.botUserId ?? null, app.botPublic, app.botRequireCodeGrant,
    app.icon ?? null, app.verifyKey, BigInt.asIntN(64, app.flags), app.privateKey, app.interactionsEndpointUrl,
  ];
}

function decodeApplication(row: cassandra.types.Row): Application {
  return create(ApplicationSchema, {
    id: row.application_id as bigint,
    name: (row.name as string | null) ?? "",
    description: (row.description as string | null) ?? "",
    ownerId: (row.owner_id as bigint | null) ?? 0n,
    botUserId: (row.bot_user_id as bigint | null) ?? undefined,
    botPublic: Boolean(row.bot_public),
    botRequireCodeGrant: Boolean(row.bot_require_code_grant),
    icon: (row.icon as string | null) ?? undefined,
    verifyKey: (row.verify_key as string | null) ?? "",
    flags: BigInt.asUintN(64, (row.flags as bigint | null) ?? 0n),
    privateKey: (row.private_key as string | null) ?? "",
    interactionsEndpointUrl: (row.interactions_endpoint_url as string | null) ?? "",
  });
}

/** The application as a read returns it (an applied LWT returns only `[applied]`). */
function storedApplication(app: Application): Application {
  const values = applicationValues(app);
  return decodeApplication(Object.fromEntries(APPLICATION_COLUMNS.map((column, i) => [column, values[i]])) as unknown as cassandra.types.Row);
}

function decodeRelationship(row: cassandra.types.Row): RelationshipRecord {
  return {
    userId: row.user_id as bigint,
    peerId: row.peer_id as bigint,
    type: row.type as number,
    nickname: (row.nickname as string | null) ?? undefined,
    sinceMs: (row.since as Date).getTime(),
  };
}

/** `work` over every item, at most `parallel` at a time. */
async function eachInChunks<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += parallel) results.push(...(await Promise.all(items.slice(i, i + parallel).map(work))));
  return results;
}

function columnValue(field: keyof UserPatch, patch: UserPatch): unknown {
  const value = patch[field];
  if (field === "flags") return BigInt.asIntN(64, (value as bigint | undefined) ?? 0n);
  return value ?? null;
}

function decodeUser(row: cassandra.types.Row): User {
  return create(UserSchema, {
    id: row.user_id as bigint,
    username: (row.username as string | null) ?? "",
    globalName: (row.global_name as string | null) ?? undefined,
    avatar: (row.avatar as string | null) ?? undefined,
    bot: Boolean(row.bot),
    system: Boolean(row.system),
    flags: BigInt.asUintN(64, (row.flags as bigint | null) ?? 0n),
    email: (row.email as string | null) ?? undefined,
    verified: Boolean(row.verified),
    locale: (row.locale as string | null) ?? "",
  });
}

/** The row the driver would read back for `user` (an applied LWT returns only `[applied]`). */
function storedRow(user: User): cassandra.types.Row {
  return {
    user_id: user.id,
    username: user.username,
    global_name: user.globalName ?? null,
    avatar: user.avatar ?? null,
    bot: user.bot,
    system: user.system,
    flags: BigInt.asIntN(64, user.flags),
    email: user.email ?? null,
    verified: user.verified,
    locale: user.locale,
  } as unknown as cassandra.types.Row;
}

function decodeToken(row: cassandra.types.Row): TokenRecord {
  return {
    tokenHash: new Uint8Array(row.token_hash as Buffer),
    userId: row.user_id as bigint,
    kind: row.kind as number,
    createdAtMs: (row.created_at as Date).getTime(),
  };
}

/**
 * Accounts on Cassandra/ScyllaDB, with the semantics of the SQLite store (account-store.ts;
 * proved by test/account-conformance.ts).
 *
 * Uniqueness: Cassandra has no unique constraint, so each unique field has a lookup table
 * (users_by_username, users_by_email) in which an account *claims* a name with a lightweight
 * transaction, `INSERT ... IF NOT EXISTS`: Paxos lets exactly one of two concurrent claims
 * win. Claims come before the account row is written, and a create or rename that fails
 * afterwards releases what it claimed (`DELETE ... IF user_id = ?`, so it never frees another
 * account's claim).
 *
 * A storage node dying between the two steps leaves a claim whose holder's account does not
 * carry the name. Such a claim is ignored by logins (they check the account's own name) and is
 * taken over by the next account wanting the name once it is older than `claimSettleMs`,
 * which no in-flight create or rename can take.
 *
 * The account row is written with LWTs too: the create `IF NOT EXISTS` (an id collision is
 * detected, a retry finds its own row), a rename `IF username = <old> AND email = <old>` (two
 * concurrent renames of one account cannot both write after both claimed), any other update
 * `IF EXISTS` (an update never creates an account).
 *
 * Secondary lookups without a unique constraint are tables written *before* the row they
 * point to, so that a row that exists is always found: tokens_by_user (RevokeUserTokens) and
 * applications_by_owner (ListApplications). An entry whose row does not exist (a create that
 * failed or is in flight) is ignored when read; RevokeUserTokens removes token entries once
 * they are older than `claimSettleMs`. Relationships are plain writes of one row per side.
 */
export class CassandraAccountStore implements AccountStore {
  readonly backend = "cassandra" as const;
  private readonly session: CassandraSession;
  private readonly ks: string;
  private readonly claimSettleMs: number;

  constructor(options: CassandraAccountStoreOptions) {
    this.session = new CassandraSession(options);
    this.ks = this.session.keyspace;
    this.claimSettleMs = options.claimSettleMs ?? DEFAULT_CLAIM_SETTLE_MS;
  }

  open(): Promise<void> {
    return this.session.open();
  }

  private execute(operation: string, cql: string, params: unknown[]): Promise<cassandra.types.ResultSet> {
    return this.session.execute(operation, cql, params);
  }

  /**
   * Claims `key` for `userId`: true when this call claimed it, false when the account already
   * held it (a retry). Throws AccountConflictError when another account holds it.
   */
  private async claim(claims: ClaimTable, key: string, userId: bigint): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await this.execute(
        `claim_${claims.field}`,
        `INSERT INTO ${this.ks}.${claims.table} (${claims.column}, user_id) VALUES (?, ?) IF NOT EXISTS`,
        [key, userId],
      );
      if (result.wasApplied()) return true;
      const holder = result.first().user_id as bigint;
      if (holder === userId) return false;
      if (attempt > 0 || !(await this.isStaleClaim(claims, key, holder))) break;
      await this.execute(`release_${claims.field}`, `DELETE FROM ${this.ks}.${claims.table} WHERE ${claims.column} = ? IF user_id = ?`, [
        key,
        holder,
      ]);
    }
    throw new AccountConflictError(claims.field);
  }

  /** A claim is stale when its holder's account does not carry the name and the claim is old enough. */
  private async isStaleClaim(claims: ClaimTable, key: string, holder: bigint): Promise<boolean> {
    const account = (await this.execute("get_user", `SELECT username, email FROM ${this.ks}.users WHERE user_id = ?`, [holder])).first();
    if (account && keyIn(claims, { username: account.username ?? "", email: account.email ?? undefined }) === key) return false;
    const claim = (
      await this.execute(`claim_age_${claims.field}`, `SELECT WRITETIME(user_id) AS written FROM ${this.ks}.${claims.table} WHERE ${claims.column} = ?`, [key])
    ).first();
    // Gone meanwhile: nothing to take over, the next claim attempt decides.
    if (!claim) return true;
    const writtenMs = Number((claim.written as bigint) / 1000n);
    return Date.now() - writtenMs > this.claimSettleMs;
  }

  /** Releases claims this call made, best effort: a claim left behind is taken over once stale. */
  private async release(claimed: { claims: ClaimTable; key: string }[], userId: bigint): Promise<void> {
    await Promise.all(
      claimed.map(({ claims, key }) =>
        this.execute(`release_${claims.field}`, `DELETE FROM ${this.ks}.${claims.table} WHERE ${claims.column} = ? IF user_id = ?`, [
          key,
          userId,
        ]).catch(() => undefined),
      ),
    );
  }

  async createUser(user: User, passwordHash: string): Promise<User> {
    const claimed: { claims: ClaimTable; key: string }[] = [];
    try {
      for (const claims of [USERNAMES, EMAILS]) {
        const key = keyIn(claims, user);
        if (key !== undefined && (await this.claim(claims, key, user.id))) claimed.push({ claims, key });
      }
      const values = [
        user.id, user.username, user.globalName ?? null, user.avatar ?? null, user.bot, user.system,
        BigInt.asIntN(64, user.flags), user.email ?? null, user.verified, user.locale, passwordHash,
      ];
      const result = await this.execute(
        "insert_user",
        `INSERT INTO ${this.ks}.users (${USER_COLUMNS.join(", ")}, password_hash) VALUES (${values.map(() => "?").join(", ")}) IF NOT EXISTS`,
        values,
      );
      if (result.wasApplied()) return decodeUser(storedRow(user));
      const existing = decodeUser(result.first());
      // A retry of this very create finds its own account; anything else is another account.
      const sameAccount = keyIn(USERNAMES, existing) === keyIn(USERNAMES, user) && keyIn(EMAILS, existing) === keyIn(EMAILS, user);
      if (sameAccount) return existing;
      throw new AccountConflictError("id");
    } catch (err) {
      await this.release(claimed, user.id);
      throw err;
    }
  }

  async getUser(userId: bigint): Promise<User | undefined> {
    const row = (await this.execute("get_user", `SELECT ${USER_COLUMNS.join(", ")} FROM ${this.ks}.users WHERE user_id = ?`, [userId])).first();
    return row ? decodeUser(row) : undefined;
  }

  async findByLogin(login: string): Promise<UserWithPassword | undefined> {
    const claims = isEmailLogin(login) ? EMAILS : USERNAMES;
    const key = loginKey(login);
    const claim = (await this.execute(`find_${claims.field}`, `SELECT user_id FROM ${this.ks}.${claims.table} WHERE ${claims.column} = ?`, [key])).first();
    if (!claim) return undefined;
    const row = (await this.execute("get_user", `SELECT * FROM ${this.ks}.users WHERE user_id = ?`, [claim.user_id])).first();
    if (!row) return undefined;
    const user = decodeUser(row);
    // Only the account's current name logs in, never a leftover claim of a failed create or rename.
    if (keyIn(claims, user) !== key) return undefined;
    return { user, passwordHash: (row.password_hash as string | null) ?? "" };
  }

  async updateUser(userId: bigint, patch: UserPatch): Promise<User | undefined> {
    const fields = Object.keys(patch) as (keyof UserPatch)[];
    if (fields.length === 0) return this.getUser(userId);
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await this.getUser(userId);
      if (!current) return undefined;
      const { passwordHash: _, ...userFields } = patch;
      const updated = create(UserSchema, { ...current, ...userFields });
      const renamed = [USERNAMES, EMAILS]
        .map((claims) => ({ claims, oldKey: keyIn(claims, current), newKey: keyIn(claims, updated) }))
        .filter((r) => r.oldKey !== r.newKey);

      const claimed: { claims: ClaimTable; key: string }[] = [];
      try {
        for (const { claims, newKey } of renamed) {
          if (newKey !== undefined && (await this.claim(claims, newKey, userId))) claimed.push({ claims, key: newKey });
        }
        const assignments = fields.map((f) => `${PATCH_COLUMNS[f]} = ?`);
        const values = fields.map((f) => columnValue(f, patch));
        // A rename is a compare-and-set on the names read above, so that of two concurrent
        // renames only one writes; anything else only needs the account to exist.
        const condition = renamed.length > 0 ? "IF username = ? AND email = ?" : "IF EXISTS";
        const conditionValues = renamed.length > 0 ? [current.username, current.email ?? null] : [];
        const result = await this.execute(
          "update_user",
          `UPDATE ${this.ks}.users SET ${assignments.join(", ")} WHERE user_id = ? ${condition}`,
          [...values, userId, ...conditionValues],
        );
        if (!result.wasApplied()) {
          await this.release(claimed, userId);
          if (renamed.length === 0) return undefined;
          continue; // deleted or renamed concurrently: read again and decide again
        }
      } catch (err) {
        await this.release(claimed, userId);
        throw err;
      }
      // The account no longer carries its old names: free them for others.
      const released = renamed.filter((r) => r.oldKey !== undefined).map((r) => ({ claims: r.claims, key: r.oldKey! }));
      await this.release(released, userId);
      return decodeUser(storedRow(updated));
    }
    throw new StoreContentionError(`user ${userId} was renamed concurrently ${MAX_UPDATE_ATTEMPTS} times; retry`);
  }

  async createToken(token: Omit<TokenRecord, "createdAtMs">): Promise<TokenRecord> {
    const createdAt = new Date();
    const hash = Buffer.from(token.tokenHash);
    // The user's index first: a token that exists is always listed there for RevokeUserTokens.
    await this.execute(
      "index_token",
      `INSERT INTO ${this.ks}.tokens_by_user (user_id, kind, token_hash, created_at) VALUES (?, ?, ?, ?)`,
      [token.userId, token.kind, hash, createdAt],
    );
    const result = await this.execute(
      "insert_token",
      `INSERT INTO ${this.ks}.tokens (token_hash, user_id, kind, created_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      [hash, token.userId, token.kind, createdAt],
    );
    if (result.wasApplied()) return { ...token, tokenHash: new Uint8Array(token.tokenHash), createdAtMs: createdAt.getTime() };
    const existing = decodeToken(result.first());
    // The hash is another user's or another kind's: the entry just written points at nothing of ours.
    if (existing.userId !== token.userId || existing.kind !== token.kind) await this.unindexTokens(token.userId, token.kind, [hash]).catch(() => undefined);
    if (existing.userId !== token.userId) throw new AccountConflictError("token_hash");
    return existing;
  }

  async resolveToken(tokenHash: Uint8Array): Promise<TokenRecord | undefined> {
    const row = (await this.execute("resolve_token", `SELECT * FROM ${this.ks}.tokens WHERE token_hash = ?`, [Buffer.from(tokenHash)])).first();
    return row ? decodeToken(row) : undefined;
  }

  async revokeToken(tokenHash: Uint8Array): Promise<boolean> {
    const hash = Buffer.from(tokenHash);
    const row = (await this.execute("resolve_token", `SELECT user_id, kind FROM ${this.ks}.tokens WHERE token_hash = ?`, [hash])).first();
    const result = await this.execute("revoke_token", `DELETE FROM ${this.ks}.tokens WHERE token_hash = ? IF EXISTS`, [hash]);
    // Best effort: an entry left behind is removed by the user's next RevokeUserTokens.
    if (row) await this.unindexTokens(row.user_id as bigint, row.kind as number, [hash]).catch(() => undefined);
    return result.wasApplied();
  }

  async revokeUserTokens(userId: bigint, kind: TokenKind): Promise<number> {
    const entries = await this.session.all(
      "tokens_by_user",
      `SELECT token_hash, created_at FROM ${this.ks}.tokens_by_user WHERE user_id = ? AND kind = ?`,
      [userId, kind],
    );
    const outcomes = await eachInChunks(entries, PARALLEL_REQUESTS, async (entry) => {
      const hash = entry.token_hash as Buffer;
      // Conditional: an entry may point at a hash that is another user's or another kind's.
      const result = await this.execute("revoke_token", `DELETE FROM ${this.ks}.tokens WHERE token_hash = ? IF user_id = ? AND kind = ?`, [
        hash,
        userId,
        kind,
      ]);
      if (result.wasApplied()) return { hash, revoked: true, unindex: true };
      // No such token of this user: the entry is stale once no create in flight can still write it.
      const writtenMs = (entry.created_at as Date | null)?.getTime() ?? 0;
      return { hash, revoked: false, unindex: Date.now() - writtenMs > this.claimSettleMs };
    });
    await this.unindexTokens(userId, kind, outcomes.filter((o) => o.unindex).map((o) => o.hash));
    return outcomes.filter((o) => o.revoked).length;
  }

  /** Removes entries of tokens_by_user (one partition: unlogged batches). */
  private async unindexTokens(userId: bigint, kind: TokenKind, hashes: Buffer[]): Promise<void> {
    for (let i = 0; i < hashes.length; i += UNINDEX_BATCH) {
      const queries = hashes.slice(i, i + UNINDEX_BATCH).map((hash) => ({
        query: `DELETE FROM ${this.ks}.tokens_by_user WHERE user_id = ? AND kind = ? AND token_hash = ?`,
        params: [userId, kind, hash],
      }));
      await this.session.batch("unindex_tokens", queries, { logged: false });
    }
  }

  async putRelationship(relationship: Omit<RelationshipRecord, "sinceMs">): Promise<RelationshipRecord> {
    const since = new Date();
    await this.execute(
      "put_relationship",
      `INSERT INTO ${this.ks}.relationships (user_id, peer_id, type, since, nickname) VALUES (?, ?, ?, ?, ?)`,
      [relationship.userId, relationship.peerId, relationship.type, since, relationship.nickname ?? null],
    );
    return { ...relationship, sinceMs: since.getTime() };
  }

  async deleteRelationship(userId: bigint, peerId: bigint): Promise<boolean> {
    // A read then a plain delete: the row is never written by a lightweight transaction, and
    // mixing both on one row would order them by unrelated clocks.
    const existed = (
      await this.execute("get_relationship", `SELECT type FROM ${this.ks}.relationships WHERE user_id = ? AND peer_id = ?`, [userId, peerId])
    ).first();
    await this.execute("delete_relationship", `DELETE FROM ${this.ks}.relationships WHERE user_id = ? AND peer_id = ?`, [userId, peerId]);
    return existed !== null;
  }

  async listRelationships(userId: bigint): Promise<RelationshipRecord[]> {
    const rows = await this.session.all(
      "list_relationships",
      `SELECT user_id, peer_id, type, since, nickname FROM ${this.ks}.relationships WHERE user_id = ?`,
      [userId],
    );
    return rows.map(decodeRelationship);
  }

  async createApplication(application: Application): Promise<Application> {
    // The owner's index first: an application that exists is always listed.
    await this.execute("index_application", `INSERT INTO ${this.ks}.applications_by_owner (owner_id, application_id) VALUES (?, ?)`, [
      application.ownerId,
      application.id,
    ]);
    const values = applicationValues(application);
    const result = await this.execute(
      "insert_application",
      `INSERT INTO ${this.ks}.applications (${APPLICATION_COLUMNS.join(", ")}) VALUES (${values.map(() => "?").join(", ")}) IF NOT EXISTS`,
      values,
    );
    if (result.wasApplied()) return storedApplication(application);
    const existing = decodeApplication(result.first());
    // A retry of this very create finds its own application; anything else is another one.
    if (isSameApplication(existing, application)) return existing;
    if (existing.ownerId !== application.ownerId) {
      await this.execute("unindex_application", `DELETE FROM ${this.ks}.applications_by_owner WHERE owner_id = ? AND application_id = ?`, [
        application.ownerId,
        application.id,
      ]).catch(() => undefined);
    }
    throw new AccountConflictError("id", "application");
  }

  async getApplication(applicationId: bigint): Promise<Application | undefined> {
    const row = (
      await this.execute("get_application", `SELECT ${APPLICATION_COLUMNS.join(", ")} FROM ${this.ks}.applications WHERE application_id = ?`, [
        applicationId,
      ])
    ).first();
    return row ? decodeApplication(row) : undefined;
  }

  async updateApplication(applicationId: bigint, patch: ApplicationPatch): Promise<Application | undefined> {
    const current = await this.getApplication(applicationId);
    if (!current) return undefined;
    const fields = Object.keys(patch) as (keyof ApplicationPatch)[];
    if (fields.length === 0) return current;
    const values = fields.map((f) => (f === "flags" ? BigInt.asIntN(64, patch.flags ?? 0n) : (patch[f] ?? null)));
    const result = await this.execute(
      "update_application",
      `UPDATE ${this.ks}.applications SET ${fields.map((f) => `${APPLICATION_PATCH_COLUMNS[f]} = ?`).join(", ")} WHERE application_id = ? IF EXISTS`,
      [...values, applicationId],
    );
    if (!result.wasApplied()) return undefined;
    return storedApplication(create(ApplicationSchema, { ...current, ...patch }));
  }

  async listApplications(ownerId: bigint): Promise<Application[]> {
    const entries = await this.session.all(
      "applications_by_owner",
      `SELECT application_id FROM ${this.ks}.applications_by_owner WHERE owner_id = ?`,
      [ownerId],
    );
    const applications = await eachInChunks(entries, PARALLEL_REQUESTS, (entry) => this.getApplication(entry.application_id as bigint));
    // Entries of creates that failed or are still in flight point at nothing (or at another owner's application).
    return applications.filter((a): a is Application => a !== undefined && a.ownerId === ownerId);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
