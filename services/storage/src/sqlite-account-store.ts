import type Database from "better-sqlite3";
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
  type QueryHook,
  type RelationshipRecord,
  type TokenRecord,
  type User,
  type UserPatch,
  type UserWithPassword,
} from "./account-store.js";
import { fromDb, SqliteConnection, toDb } from "./sqlite-schema.js";

export interface SqliteAccountStoreOptions {
  /** Database file (the message store's), or ":memory:" (one private database per store). */
  path: string;
  /** Called once per SQL statement executed. */
  onQuery?: QueryHook;
}

interface UserRow {
  user_id: bigint;
  username: string;
  username_key: string;
  global_name: string | null;
  avatar: string | null;
  bot: bigint;
  system: bigint;
  flags: bigint;
  email: string | null;
  email_key: string | null;
  verified: bigint;
  locale: string;
  password_hash: string;
}

interface TokenRow {
  token_hash: Buffer;
  user_id: bigint;
  kind: bigint;
  created_at: bigint;
}

interface RelationshipRow {
  user_id: bigint;
  peer_id: bigint;
  type: bigint;
  since: bigint;
  nickname: string | null;
}

interface ApplicationRow {
  application_id: bigint;
  name: string;
  description: string;
  owner_id: bigint;
  bot_user_id: bigint | null;
  bot_public: bigint;
  bot_require_code_grant: bigint;
  icon: string | null;
  verify_key: string;
  flags: bigint;
  private_key: string;
  interactions_endpoint_url: string;
}

const APPLICATION_COLUMNS = [
  "application_id", "name", "description", "owner_id", "bot_user_id", "bot_public", "bot_require_code_grant", "icon", "verify_key", "flags",
  "private_key", "interactions_endpoint_url",
] as const;

const USER_COLUMNS = [
  "user_id", "username", "username_key", "global_name", "avatar", "bot", "system", "flags", "email", "email_key",
  "verified", "locale", "password_hash",
] as const;

function encodeUser(user: User, passwordHash: string): UserRow {
  return {
    user_id: toDb(user.id),
    username: user.username,
    username_key: loginKey(user.username),
    global_name: user.globalName ?? null,
    avatar: user.avatar ?? null,
    bot: user.bot ? 1n : 0n,
    system: user.system ? 1n : 0n,
    flags: toDb(user.flags),
    email: user.email ?? null,
    email_key: emailKeyOf(user) ?? null,
    verified: user.verified ? 1n : 0n,
    locale: user.locale,
    password_hash: passwordHash,
  };
}

function decodeUser(row: UserRow): User {
  return create(UserSchema, {
    id: fromDb(row.user_id),
    username: row.username,
    globalName: row.global_name ?? undefined,
    avatar: row.avatar ?? undefined,
    bot: row.bot !== 0n,
    system: row.system !== 0n,
    flags: fromDb(row.flags),
    email: row.email ?? undefined,
    verified: row.verified !== 0n,
    locale: row.locale,
  });
}

const decodeToken = (row: TokenRow): TokenRecord => ({
  tokenHash: new Uint8Array(row.token_hash),
  userId: fromDb(row.user_id),
  kind: Number(row.kind),
  createdAtMs: Number(row.created_at),
});

const decodeRelationship = (row: RelationshipRow): RelationshipRecord => ({
  userId: fromDb(row.user_id),
  peerId: fromDb(row.peer_id),
  type: Number(row.type),
  nickname: row.nickname ?? undefined,
  sinceMs: Number(row.since),
});

function encodeApplication(app: Application): ApplicationRow {
  return {
    application_id: toDb(app.id),
    name: app.name,
    description: app.description,
    owner_id: toDb(app.ownerId),
    bot_user_id: app.botUserId === undefined ? null : toDb(app.botUserId),
    bot_public: app.botPublic ? 1n : 0n,
    bot_require_code_grant: app.botRequireCodeGrant ? 1n : 0n,
    icon: app.icon ?? null,
    verify_key: app.verifyKey,
    flags: toDb(app.flags),
    private_key: app.privateKey,
    interactions_endpoint_url: app.interactionsEndpointUrl,
  };
}

function decodeApplication(row: ApplicationRow): Application {
  return create(ApplicationSchema, {
    id: fromDb(row.application_id),
    name: row.name,
    description: row.description,
    ownerId: fromDb(row.owner_id),
    botUserId: row.bot_user_id === null ? undefined : fromDb(row.bot_user_id),
    botPublic: row.bot_public !== 0n,
    botRequireCodeGrant: row.bot_require_code_grant !== 0n,
    icon: row.icon ?? undefined,
    verifyKey: row.verify_key,
    flags: fromDb(row.flags),
    privateKey: row.private_key,
    interactionsEndpointUrl: row.interactions_endpoint_url,
  });
}

type Statements = ReturnType<SqliteAccountStore["prepareStatements"]>;

/**
 * Accounts in the embedded-mode SQLite file, with the semantics of the Cassandra store
 * (account-store.ts; proved by test/account-conformance.ts). Each write runs in one IMMEDIATE
 * transaction that checks the unique keys and then writes, so the conflict names the field;
 * the UNIQUE constraints on username_key and email_key back this up at the database level.
 */
export class SqliteAccountStore implements AccountStore {
  readonly backend = "sqlite" as const;
  private readonly connection: SqliteConnection<Statements>;

  constructor(private readonly options: SqliteAccountStoreOptions) {
    this.connection = new SqliteConnection(options.path, options.onQuery, (db) => this.prepareStatements(db));
  }

  async open(): Promise<void> {
    this.connection.open();
  }

  private prepareStatements(db: Database.Database) {
    return {
      userById: db.prepare<[bigint], UserRow>("SELECT * FROM users WHERE user_id = ?"),
      userByUsername: db.prepare<[string], UserRow>("SELECT * FROM users WHERE username_key = ?"),
      userByEmail: db.prepare<[string], UserRow>("SELECT * FROM users WHERE email_key = ?"),
      insertUser: db.prepare<[UserRow]>(
        `INSERT INTO users (${USER_COLUMNS.join(", ")}) VALUES (${USER_COLUMNS.map((c) => `@${c}`).join(", ")})`,
      ),
      updateUser: db.prepare<[UserRow]>(
        `UPDATE users SET ${USER_COLUMNS.filter((c) => c !== "user_id").map((c) => `${c} = @${c}`).join(", ")} WHERE user_id = @user_id`,
      ),
      tokenByHash: db.prepare<[Buffer], TokenRow>("SELECT * FROM tokens WHERE token_hash = ?"),
      insertToken: db.prepare<[TokenRow]>(
        "INSERT INTO tokens (token_hash, user_id, kind, created_at) VALUES (@token_hash, @user_id, @kind, @created_at)",
      ),
      deleteToken: db.prepare<[Buffer]>("DELETE FROM tokens WHERE token_hash = ?"),
      deleteUserTokens: db.prepare<[bigint, number]>("DELETE FROM tokens WHERE user_id = ? AND kind = ?"),
      putRelationship: db.prepare<[RelationshipRow]>(
        `INSERT INTO relationships (user_id, peer_id, type, since, nickname) VALUES (@user_id, @peer_id, @type, @since, @nickname)
         ON CONFLICT (user_id, peer_id) DO UPDATE SET type = excluded.type, since = excluded.since, nickname = excluded.nickname`,
      ),
      deleteRelationship: db.prepare<[bigint, bigint]>("DELETE FROM relationships WHERE user_id = ? AND peer_id = ?"),
      relationships: db.prepare<[bigint], RelationshipRow>("SELECT * FROM relationships WHERE user_id = ? ORDER BY peer_id"),
      applicationById: db.prepare<[bigint], ApplicationRow>("SELECT * FROM applications WHERE application_id = ?"),
      applicationsByOwner: db.prepare<[bigint], ApplicationRow>("SELECT * FROM applications WHERE owner_id = ? ORDER BY application_id"),
      insertApplication: db.prepare<[ApplicationRow]>(
        `INSERT INTO applications (${APPLICATION_COLUMNS.join(", ")}) VALUES (${APPLICATION_COLUMNS.map((c) => `@${c}`).join(", ")})`,
      ),
      updateApplication: db.prepare<[ApplicationRow]>(
        `UPDATE applications SET ${APPLICATION_COLUMNS.filter((c) => c !== "application_id").map((c) => `${c} = @${c}`).join(", ")}
         WHERE application_id = @application_id`,
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

  /** Throws AccountConflictError when another account than `userId` holds the row's username or email. */
  private checkUnique(s: Statements, row: UserRow, checkUsername: boolean, checkEmail: boolean): void {
    if (checkUsername) {
      this.query("user_by_username");
      const holder = s.userByUsername.get(row.username_key);
      if (holder && holder.user_id !== row.user_id) throw new AccountConflictError("username");
    }
    if (checkEmail && row.email_key !== null) {
      this.query("user_by_email");
      const holder = s.userByEmail.get(row.email_key);
      if (holder && holder.user_id !== row.user_id) throw new AccountConflictError("email");
    }
  }

  createUser(user: User, passwordHash: string): Promise<User> {
    return this.run("create_user", (s) =>
      s.transaction(() => {
        const row = encodeUser(user, passwordHash);
        this.query("user_by_id");
        const existing = s.userById.get(row.user_id);
        if (existing) {
          // A retry of this very create finds its own account; anything else is another account.
          if (existing.username_key === row.username_key && existing.email_key === row.email_key) return decodeUser(existing);
          this.checkUnique(s, row, true, true);
          throw new AccountConflictError("id");
        }
        this.checkUnique(s, row, true, true);
        this.query("insert_user");
        s.insertUser.run(row);
        return decodeUser(row);
      }),
    );
  }

  getUser(userId: bigint): Promise<User | undefined> {
    return this.run("get_user", (s) => {
      this.query("user_by_id");
      const row = s.userById.get(toDb(userId));
      return row ? decodeUser(row) : undefined;
    });
  }

  findByLogin(login: string): Promise<UserWithPassword | undefined> {
    return this.run("find_user", (s) => {
      const key = loginKey(login);
      this.query(isEmailLogin(login) ? "user_by_email" : "user_by_username");
      const row = isEmailLogin(login) ? s.userByEmail.get(key) : s.userByUsername.get(key);
      return row ? { user: decodeUser(row), passwordHash: row.password_hash } : undefined;
    });
  }

  updateUser(userId: bigint, patch: UserPatch): Promise<User | undefined> {
    return this.run("update_user", (s) =>
      s.transaction(() => {
        this.query("user_by_id");
        const current = s.userById.get(toDb(userId));
        if (!current) return undefined;
        const { passwordHash, ...fields } = patch;
        const merged = create(UserSchema, { ...decodeUser(current), ...fields });
        const row = encodeUser(merged, passwordHash ?? current.password_hash);
        this.checkUnique(s, row, row.username_key !== current.username_key, row.email_key !== current.email_key);
        this.query("update_user");
        s.updateUser.run(row);
        return decodeUser(row);
      }),
    );
  }

  createToken(token: Omit<TokenRecord, "createdAtMs">): Promise<TokenRecord> {
    return this.run("create_token", (s) =>
      s.transaction(() => {
        const hash = Buffer.from(token.tokenHash);
        this.query("token_by_hash");
        const existing = s.tokenByHash.get(hash);
        if (existing) {
          if (fromDb(existing.user_id) !== token.userId) throw new AccountConflictError("token_hash");
          return decodeToken(existing);
        }
        const row: TokenRow = { token_hash: hash, user_id: toDb(token.userId), kind: BigInt(token.kind), created_at: BigInt(Date.now()) };
        this.query("insert_token");
        s.insertToken.run(row);
        return decodeToken(row);
      }),
    );
  }

  resolveToken(tokenHash: Uint8Array): Promise<TokenRecord | undefined> {
    return this.run("resolve_token", (s) => {
      this.query("token_by_hash");
      const row = s.tokenByHash.get(Buffer.from(tokenHash));
      return row ? decodeToken(row) : undefined;
    });
  }

  revokeToken(tokenHash: Uint8Array): Promise<boolean> {
    return this.run("revoke_token", (s) => {
      this.query("delete_token");
      return s.deleteToken.run(Buffer.from(tokenHash)).changes > 0;
    });
  }

  revokeUserTokens(userId: bigint, kind: TokenKind): Promise<number> {
    return this.run("revoke_user_tokens", (s) => {
      this.query("delete_user_tokens");
      return s.deleteUserTokens.run(toDb(userId), kind).changes;
    });
  }

  putRelationship(relationship: Omit<RelationshipRecord, "sinceMs">): Promise<RelationshipRecord> {
    return this.run("put_relationship", (s) => {
      const row: RelationshipRow = {
        user_id: toDb(relationship.userId),
        peer_id: toDb(relationship.peerId),
        type: BigInt(relationship.type),
        since: BigInt(Date.now()),
        nickname: relationship.nickname ?? null,
      };
      this.query("put_relationship");
      s.putRelationship.run(row);
      return decodeRelationship(row);
    });
  }

  deleteRelationship(userId: bigint, peerId: bigint): Promise<boolean> {
    return this.run("delete_relationship", (s) => {
      this.query("delete_relationship");
      return s.deleteRelationship.run(toDb(userId), toDb(peerId)).changes > 0;
    });
  }

  listRelationships(userId: bigint): Promise<RelationshipRecord[]> {
    return this.run("list_relationships", (s) => {
      this.query("list_relationships");
      return s.relationships.all(toDb(userId)).map(decodeRelationship);
    });
  }

  createApplication(application: Application): Promise<Application> {
    return this.run("create_application", (s) =>
      s.transaction(() => {
        const row = encodeApplication(application);
        this.query("application_by_id");
        const existing = s.applicationById.get(row.application_id);
        if (existing) {
          const stored = decodeApplication(existing);
          // A retry of this very create finds its own application; anything else is another one.
          if (isSameApplication(stored, application)) return stored;
          throw new AccountConflictError("id", "application");
        }
        this.query("insert_application");
        s.insertApplication.run(row);
        return decodeApplication(row);
      }),
    );
  }

  getApplication(applicationId: bigint): Promise<Application | undefined> {
    return this.run("get_application", (s) => {
      this.query("application_by_id");
      const row = s.applicationById.get(toDb(applicationId));
      return row ? decodeApplication(row) : undefined;
    });
  }

  updateApplication(applicationId: bigint, patch: ApplicationPatch): Promise<Application | undefined> {
    return this.run("update_application", (s) =>
      s.transaction(() => {
        this.query("application_by_id");
        const current = s.applicationById.get(toDb(applicationId));
        if (!current) return undefined;
        const row = encodeApplication(create(ApplicationSchema, { ...decodeApplication(current), ...patch }));
        this.query("update_application");
        s.updateApplication.run(row);
        return decodeApplication(row);
      }),
    );
  }

  listApplications(ownerId: bigint): Promise<Application[]> {
    return this.run("list_applications", (s) => {
      this.query("applications_by_owner");
      return s.applicationsByOwner.all(toDb(ownerId)).map(decodeApplication);
    });
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}
