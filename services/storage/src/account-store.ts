import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import type { Application, RelationshipType, TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import type { QueryHook } from "./message-store.js";

export type { Application, User };

/** Fields an update may change (the contract's update_mask paths), plus the password hash. */
export type UserPatch = Partial<Pick<User, "username" | "globalName" | "avatar" | "email" | "verified" | "flags" | "locale">> & {
  passwordHash?: string;
};

export interface UserWithPassword {
  user: User;
  passwordHash: string;
}

/** An access token as storage knows it: never the token, only its SHA-256. */
export interface TokenRecord {
  tokenHash: Uint8Array;
  userId: bigint;
  kind: TokenKind;
  /** Milliseconds since the Unix epoch, set when the token is first recorded. */
  createdAtMs: number;
}

/** One side of a relationship: what `userId` sees of `peerId`. */
export interface RelationshipRecord {
  userId: bigint;
  peerId: bigint;
  type: RelationshipType;
  /** Undefined for none. */
  nickname?: string;
  /** Milliseconds since the Unix epoch, when storage last wrote this side. */
  sinceMs: number;
}

/** Fields an application update may change (the contract's update_mask paths). */
export type ApplicationPatch = Partial<
  Pick<Application, "name" | "description" | "botUserId" | "botPublic" | "botRequireCodeGrant" | "icon" | "verifyKey" | "flags" | "privateKey" | "interactionsEndpointUrl">
>;

/** The unique keys of accounts, tokens and applications. */
export type UniqueField = "username" | "email" | "id" | "token_hash";

/** Another account (or application) already holds a unique value; `field` names it. */
export class AccountConflictError extends Error {
  constructor(
    readonly field: UniqueField,
    holder: "account" | "application" = "account",
  ) {
    super(`${field}: already taken by another ${holder}`);
    this.name = "AccountConflictError";
  }
}

/**
 * Whether a stored application is the one a create asks for (a retry of that create) rather
 * than another application with the same id.
 */
export function isSameApplication(stored: Pick<Application, "ownerId" | "name">, wanted: Pick<Application, "ownerId" | "name">): boolean {
  return stored.ownerId === wanted.ownerId && stored.name === wanted.name;
}

/**
 * The lookup key of a username or an email: uniqueness and logins ignore case, as Discord's
 * do ("Alice@Example.com" and "alice@example.com" are one address).
 */
export function loginKey(value: string): string {
  return value.trim().toLowerCase();
}

/** A login is an email address when it contains "@", which usernames cannot. */
export function isEmailLogin(login: string): boolean {
  return login.includes("@");
}

/** The key of an optional email, or undefined when there is none. */
export function emailKeyOf(user: Pick<User, "email">): string | undefined {
  return user.email ? loginKey(user.email) : undefined;
}

/**
 * An account database. Two implementations with identical semantics, proved by one
 * conformance suite (test/account-conformance.ts): Cassandra/ScyllaDB (cluster mode) and
 * SQLite (embedded mode, in the same file as the messages).
 *
 * Usernames and emails are unique case-insensitively (`loginKey`), and the database enforces
 * it: two concurrent creates or renames to one name cannot both succeed.
 */
export interface AccountStore {
  readonly backend: "cassandra" | "sqlite";

  /** Connects and applies the schema migrations that are missing (idempotent). */
  open(): Promise<void>;

  /**
   * Stores a new account. Throws AccountConflictError naming `username` or `email` when
   * another account holds either, or `id` when another account has the id. Creating the same
   * account again (same id, username and email) returns the stored one: retries are harmless.
   */
  createUser(user: User, passwordHash: string): Promise<User>;

  /** The account, or undefined. */
  getUser(userId: bigint): Promise<User | undefined>;

  /** The account whose email (a login containing "@") or username matches, with its password hash. */
  findByLogin(login: string): Promise<UserWithPassword | undefined>;

  /**
   * Applies `patch` to an existing account and returns the new version, or undefined when it
   * does not exist (never creates one). A new username or email must be free
   * (AccountConflictError); the old one is released.
   */
  updateUser(userId: bigint, patch: UserPatch): Promise<User | undefined>;

  /**
   * Records a token. The same hash recorded again for the same user returns the first
   * record (its created time); for another user it throws AccountConflictError("token_hash").
   */
  createToken(token: Omit<TokenRecord, "createdAtMs">): Promise<TokenRecord>;

  /** The token's record, or undefined when unknown or revoked. */
  resolveToken(tokenHash: Uint8Array): Promise<TokenRecord | undefined>;

  /** Forgets a token; true when it existed. */
  revokeToken(tokenHash: Uint8Array): Promise<boolean>;

  /** Forgets every token of `kind` of a user; returns how many there were. */
  revokeUserTokens(userId: bigint, kind: TokenKind): Promise<number>;

  /** Creates or replaces what `userId` sees of `peerId`, stamping `sinceMs` with now. */
  putRelationship(relationship: Omit<RelationshipRecord, "sinceMs">): Promise<RelationshipRecord>;

  /** Forgets what `userId` sees of `peerId`; true when there was something. */
  deleteRelationship(userId: bigint, peerId: bigint): Promise<boolean>;

  /** Every relationship of a user, by ascending peer id. */
  listRelationships(userId: bigint): Promise<RelationshipRecord[]>;

  /**
   * Stores a new application. Creating it again (same id, owner and name: a retry) returns the
   * stored one; another application with the id throws AccountConflictError("id").
   */
  createApplication(application: Application): Promise<Application>;

  /** The application, or undefined. */
  getApplication(applicationId: bigint): Promise<Application | undefined>;

  /** Applies `patch` to an existing application and returns the new version, or undefined when it does not exist. */
  updateApplication(applicationId: bigint, patch: ApplicationPatch): Promise<Application | undefined>;

  /** The applications `ownerId` owns, by ascending id. */
  listApplications(ownerId: bigint): Promise<Application[]>;

  close(): Promise<void>;
}

export type { QueryHook };
