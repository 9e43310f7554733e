import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger, MeshClients } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService, TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { InvalidFieldsError, RequestRefusedError, UnauthorizedError, UnknownUserError, fieldError } from "./account-errors.js";
import type { Login, ProfileChanges, Registration } from "./account-rules.js";
import { avatarHash } from "./avatars.js";
import { hashPassword, needsRehash, verifyAgainstDecoy, verifyPassword } from "./passwords.js";
import { hashToken, issueToken, tokenUserId } from "./tokens.js";
import { UserCache } from "@chorus/discord-json/user-cache";

/**
 * How long this api node trusts a token it resolved without asking storage again: a token
 * revoked through another node keeps working here for at most this long (one revoked through
 * this node stops at once).
 */
export const TOKEN_CACHE_MS = 10_000;
const TOKEN_CACHE_MAX = 100_000;

export { TokenKind };

/** An authenticated caller: whose token, of which kind. */
export interface Session {
  userId: bigint;
  kind: TokenKind;
  tokenHash: Uint8Array;
}

/** A person's session, or 403 Bots cannot use this endpoint (20001), as Discord answers bots on user-only routes. */
export function requirePerson(session: Session): Session {
  if (session.kind !== TokenKind.USER) {
    throw new RequestRefusedError("forbidden", RESTJSONErrorCodes.BotsCannotUseThisEndpoint, "Bots cannot use this endpoint", "authorization");
  }
  return session;
}

export interface IssuedSession {
  token: string;
  user: User;
}

export { DEFAULT_LOCALE } from "@chorus/discord-json/users";
import { DEFAULT_LOCALE } from "@chorus/discord-json/users";
/** Ids are snowflakes below 2^63 (what the databases store). */
const MAX_USER_ID = (1n << 63n) - 1n;
/** A fresh snowflake colliding with an existing account is near impossible; retrying twice is plenty. */
const CREATE_ATTEMPTS = 3;

const USERNAME_TAKEN = fieldError(
  "username",
  "USERNAME_ALREADY_TAKEN",
  "Username is unavailable. Try adding numbers, letters, underscores _ , or periods.",
);
const EMAIL_TAKEN = fieldError("email", "EMAIL_ALREADY_REGISTERED", "Email is already registered.");
/** Discord names both fields on a failed login and says no more, so nobody learns which was wrong. */
const invalidLogin = () =>
  new InvalidFieldsError(
    ["login", "password"].map((f) => fieldError(f, "INVALID_LOGIN", "Login or password is invalid.")),
    "credentials",
  );

/** Maps storage's ALREADY_EXISTS ("username: ...", "email: ...") to the form error naming the field. */
function takenField(err: unknown): "username" | "email" | "id" | undefined {
  if (!(err instanceof ConnectError) || err.code !== Code.AlreadyExists) return undefined;
  const field = err.rawMessage.split(":", 1)[0];
  return field === "username" || field === "email" || field === "id" ? field : undefined;
}

function conflictError(field: "username" | "email"): InvalidFieldsError {
  return new InvalidFieldsError([field === "username" ? USERNAME_TAKEN : EMAIL_TAKEN], "conflict");
}

const isNotFound = (err: unknown) => err instanceof ConnectError && err.code === Code.NotFound;

/**
 * Accounts as the edge serves them: registration, login, tokens and profiles, over the storage
 * contract (AccountStorageService). Stateless: passwords are hashed here (storage only ever
 * sees hashes), tokens are minted here (storage only sees their SHA-256), and every call is
 * routed to a storage node by user id or login, so any api node can serve any request.
 */
export class Accounts {
  /** Users as responses show them (authors, members...), kept 30 s; the caller's own changes show at once. */
  readonly users = new UserCache(async (userId) => {
    try {
      return await this.getUser(userId);
    } catch (err) {
      if (err instanceof UnknownUserError) return undefined;
      throw err;
    }
  });
  /** Tokens this node resolved recently, by hash in base64 (see TOKEN_CACHE_MS). */
  private readonly tokens = new Map<string, { userId: bigint; kind: TokenKind; expiresAt: number }>();

  constructor(
    private readonly clients: MeshClients,
    private readonly ids: SnowflakeGenerator,
    private readonly logger: Logger,
  ) {}

  private storage(shardKey: string | bigint) {
    return this.clients.client(AccountStorageService, shardKey);
  }

  /** Creates an account and a first token for it. Input already validated (registrationSchema). */
  async register(input: Registration): Promise<IssuedSession> {
    const passwordHash = await hashPassword(input.password);
    for (let attempt = 1; ; attempt++) {
      const user = create(UserSchema, {
        id: this.ids.next(),
        username: input.username,
        globalName: input.global_name ?? undefined,
        email: input.email,
        locale: DEFAULT_LOCALE,
      });
      try {
        const created = (await this.storage(user.id).createUser({ user, passwordHash })).user!;
        return { token: await this.newToken(created.id, TokenKind.USER), user: created };
      } catch (err) {
        const field = takenField(err);
        if (field === "username" || field === "email") throw conflictError(field);
        if (field === "id" && attempt < CREATE_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** Checks a login (email or username) and password, and issues a new token. */
  async login(input: Login): Promise<IssuedSession> {
    let found;
    try {
      found = await this.storage(input.login.trim().toLowerCase()).findUserByLogin({ login: input.login });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await verifyAgainstDecoy(input.password);
      throw invalidLogin();
    }
    const user = found.user!;
    if (!(await verifyPassword(input.password, found.passwordHash))) throw invalidLogin();
    if (needsRehash(found.passwordHash)) await this.rehash(user.id, input.password);
    return { token: await this.newToken(user.id, TokenKind.USER), user };
  }

  /** Moves a password hash to the current KDF parameters; the login succeeds either way. */
  private async rehash(userId: bigint, password: string): Promise<void> {
    try {
      const passwordHash = await hashPassword(password);
      await this.storage(userId).updateUser({ userId, passwordHash, updateMask: { paths: ["password_hash"] } });
    } catch (err) {
      this.logger.warn({ err, userId: String(userId) }, "could not re-hash a password with the current parameters");
    }
  }

  /** Mints a token of `kind` for a user and records its hash. */
  async newToken(userId: bigint, kind: TokenKind): Promise<string> {
    const issued = issueToken(userId);
    await this.storage(userId).createToken({ token: { tokenHash: issued.hash, userId, kind } });
    return issued.token;
  }

  /** The session a token opens, if it is one of `kinds`; UnauthorizedError otherwise. */
  async authenticate(token: string, kinds: readonly TokenKind[]): Promise<Session> {
    const claimedUser = tokenUserId(token);
    if (claimedUser === undefined) throw new UnauthorizedError("malformed token");
    const tokenHash = hashToken(token);
    const cacheKey = Buffer.from(tokenHash).toString("base64");
    let record = this.tokens.get(cacheKey);
    if (!record || record.expiresAt <= Date.now()) {
      this.tokens.delete(cacheKey);
      let resolved;
      try {
        resolved = (await this.storage(claimedUser).resolveToken({ tokenHash })).token!;
      } catch (err) {
        if (isNotFound(err)) throw new UnauthorizedError("unknown or revoked token");
        throw err;
      }
      record = { userId: resolved.userId, kind: resolved.kind, expiresAt: Date.now() + TOKEN_CACHE_MS };
      if (this.tokens.size >= TOKEN_CACHE_MAX) this.tokens.delete(this.tokens.keys().next().value!);
      this.tokens.set(cacheKey, record);
    }
    if (record.userId !== claimedUser) throw new UnauthorizedError("token does not belong to the user it names");
    if (!kinds.includes(record.kind)) throw new UnauthorizedError(`a ${TokenKind[record.kind]} token cannot be used here`);
    return { userId: record.userId, kind: record.kind, tokenHash };
  }

  async logout(session: Session): Promise<void> {
    this.tokens.delete(Buffer.from(session.tokenHash).toString("base64"));
    await this.storage(session.userId).revokeToken({ tokenHash: session.tokenHash });
  }

  /** Revokes every token of `kind` a user has (a bot's token reset). */
  async revokeUserTokens(userId: bigint, kind: TokenKind): Promise<void> {
    for (const [hash, record] of this.tokens) if (record.userId === userId && record.kind === kind) this.tokens.delete(hash);
    await this.storage(userId).revokeUserTokens({ userId, kind });
  }

  /** The caller's own account; a token whose account is gone no longer authenticates. */
  async currentUser(session: Session): Promise<User> {
    try {
      return (await this.storage(session.userId).getUser({ userId: session.userId })).user!;
    } catch (err) {
      if (isNotFound(err)) throw new UnauthorizedError("the token's account no longer exists");
      throw err;
    }
  }

  /** Anyone's account (the caller decides what of it to show). `userId` is the id as the client wrote it. */
  async getUser(userId: bigint): Promise<User> {
    if (userId === 0n || userId > MAX_USER_ID) throw new UnknownUserError(String(userId));
    try {
      return (await this.storage(userId).getUser({ userId })).user!;
    } catch (err) {
      if (isNotFound(err)) throw new UnknownUserError(String(userId));
      throw err;
    }
  }

  /**
   * Changes the caller's profile. Input already validated (profileChangesSchema). As on
   * Discord, a person changing username or email must give the current password; a new email
   * is unverified.
   */
  async updateCurrentUser(session: Session, changes: ProfileChanges): Promise<User> {
    const current = await this.currentUser(session);
    const user = create(UserSchema, {});
    const paths: string[] = [];
    if (changes.username !== undefined && changes.username !== current.username) {
      user.username = changes.username;
      paths.push("username");
    }
    if (changes.email !== undefined && changes.email !== current.email) {
      user.email = changes.email;
      user.verified = false;
      paths.push("email", "verified");
    }
    if (paths.length > 0 && session.kind === TokenKind.USER) await this.checkPassword(current, changes.password);
    if (changes.global_name !== undefined) {
      user.globalName = changes.global_name ?? undefined;
      paths.push("global_name");
    }
    if (changes.avatar !== undefined) {
      user.avatar = changes.avatar === null ? undefined : avatarHash(changes.avatar);
      paths.push("avatar");
    }
    if (paths.length === 0) return current;
    try {
      this.users.forget(session.userId);
      return (await this.storage(session.userId).updateUser({ userId: session.userId, user, updateMask: { paths } })).user!;
    } catch (err) {
      const field = takenField(err);
      if (field === "username" || field === "email") throw conflictError(field);
      if (isNotFound(err)) throw new UnauthorizedError("the token's account no longer exists");
      throw err;
    }
  }

  private async checkPassword(user: User, password: string | undefined): Promise<void> {
    if (!password) throw new InvalidFieldsError([fieldError("password", "BASE_TYPE_REQUIRED", "This field is required")]);
    const found = await this.storage(user.id).findUserByLogin({ login: user.username });
    if (found.user?.id !== user.id || !(await verifyPassword(password, found.passwordHash))) {
      throw new InvalidFieldsError([fieldError("password", "PASSWORD_DOES_NOT_MATCH", "Password does not match.")], "credentials");
    }
  }
}
