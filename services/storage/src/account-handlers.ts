import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type FieldMask } from "@bufbuild/protobuf/wkt";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import {
  AccessTokenSchema,
  AccountStorageService,
  TokenKind,
  type AccessToken,
} from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import type { AccountStore, TokenRecord, UserPatch } from "./account-store.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";

const SHA256_BYTES = 32;

/** update_mask paths (snake_case, as in the contract) and the patch field each sets. */
const UPDATABLE: Record<string, keyof UserPatch> = {
  username: "username",
  global_name: "globalName",
  avatar: "avatar",
  email: "email",
  verified: "verified",
  flags: "flags",
  locale: "locale",
  password_hash: "passwordHash",
};

/** Usernames and emails must be usable as logins: a non-blank username without "@", a non-blank email. */
function checkLoginFields(prefix: string, user: Pick<User, "username" | "email">, fields: { username: boolean; email: boolean }): void {
  if (fields.username) {
    if (user.username.trim() === "") throw invalidArgument(`${prefix}username`, "required");
    if (user.username.includes("@")) throw invalidArgument(`${prefix}username`, 'must not contain "@" (logins with "@" are emails)');
  }
  if (fields.email && user.email !== undefined && user.email.trim() === "") {
    throw invalidArgument(`${prefix}email`, "must not be blank (leave it unset for no email)");
  }
}

function patchFrom(req: { user?: User; passwordHash: string; updateMask?: FieldMask }): UserPatch {
  const mask = req.updateMask;
  if (!mask || mask.paths.length === 0) throw invalidArgument("update_mask", "must name at least one field");
  const patch: Record<string, unknown> = {};
  for (const path of mask.paths) {
    const field = UPDATABLE[path];
    if (!field) throw invalidArgument("update_mask", `"${path}" cannot be updated (allowed: ${Object.keys(UPDATABLE).join(", ")})`);
    if (field === "passwordHash") {
      patch.passwordHash = req.passwordHash;
      continue;
    }
    if (!req.user) throw invalidArgument("user", `required with update_mask path "${path}"`);
    patch[field] = req.user[field];
  }
  if (req.user) checkLoginFields("user.", req.user, { username: "username" in patch, email: "email" in patch });
  return patch as UserPatch;
}

function requireTokenHash(field: string, hash: Uint8Array): Uint8Array {
  if (hash.length !== SHA256_BYTES) throw invalidArgument(field, `must be ${SHA256_BYTES} bytes (a SHA-256), got ${hash.length}`);
  return hash;
}

function tokenMessage(record: TokenRecord): AccessToken {
  return create(AccessTokenSchema, {
    tokenHash: record.tokenHash,
    userId: record.userId,
    kind: record.kind,
    createdAt: timestampFromMs(record.createdAtMs),
  });
}

const notFound = (what: string) => new ConnectError(`${what} not found`, Code.NotFound);

/**
 * chorus.storage.v1.AccountStorageService on top of an AccountStore: validation that names the
 * bad field, ALREADY_EXISTS naming the unique field another account holds, NOT_FOUND for
 * missing accounts and tokens, UNAVAILABLE when the database cannot be reached.
 */
export function createAccountHandlers(store: AccountStore): Partial<ServiceImpl<typeof AccountStorageService>> {
  return {
    async createUser(req) {
      const user = req.user;
      if (!user) throw invalidArgument("user", "required");
      requireId("user.id", user.id);
      checkLoginFields("user.", user, { username: true, email: true });
      return { user: await guarded(() => store.createUser(user, req.passwordHash)) };
    },

    async getUser(req) {
      const userId = requireId("user_id", req.userId);
      const user = await guarded(() => store.getUser(userId));
      if (!user) throw notFound(`user ${userId}`);
      return { user };
    },

    async findUserByLogin(req) {
      if (req.login.trim() === "") throw invalidArgument("login", "required");
      const found = await guarded(() => store.findByLogin(req.login));
      if (!found) throw notFound("account with this login");
      return { user: found.user, passwordHash: found.passwordHash };
    },

    async updateUser(req) {
      const userId = requireId("user_id", req.userId);
      const patch = patchFrom(req);
      const user = await guarded(() => store.updateUser(userId, patch));
      if (!user) throw notFound(`user ${userId}`);
      return { user };
    },

    async createToken(req) {
      const token = req.token;
      if (!token) throw invalidArgument("token", "required");
      requireTokenHash("token.token_hash", token.tokenHash);
      requireId("token.user_id", token.userId);
      if (token.kind !== TokenKind.USER && token.kind !== TokenKind.BOT) throw invalidArgument("token.kind", "must be USER or BOT");
      const record = await guarded(() => store.createToken({ tokenHash: token.tokenHash, userId: token.userId, kind: token.kind }));
      return { token: tokenMessage(record) };
    },

    async resolveToken(req) {
      const hash = requireTokenHash("token_hash", req.tokenHash);
      const record = await guarded(() => store.resolveToken(hash));
      if (!record) throw notFound("token");
      return { token: tokenMessage(record) };
    },

    async revokeToken(req) {
      const hash = requireTokenHash("token_hash", req.tokenHash);
      return { revoked: await guarded(() => store.revokeToken(hash)) };
    },
  };
}
