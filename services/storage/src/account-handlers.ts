import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type FieldMask } from "@bufbuild/protobuf/wkt";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import {
  AccessTokenSchema,
  AccountStorageService,
  RelationshipSchema,
  RelationshipType,
  TokenKind,
  type AccessToken,
  type Application,
  type Relationship,
} from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import type { AccountStore, ApplicationPatch, RelationshipRecord, TokenRecord, UserPatch } from "./account-store.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";

const SHA256_BYTES = 32;
export const MAX_APPLICATION_NAME_LENGTH = 128;
export const MAX_APPLICATION_DESCRIPTION_LENGTH = 400;

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

/** The paths of an update_mask, each one of `allowed` (snake_case field names, as in the contract). */
function maskPaths(mask: FieldMask | undefined, allowed: Record<string, unknown>): string[] {
  if (!mask || mask.paths.length === 0) throw invalidArgument("update_mask", "must name at least one field");
  for (const path of mask.paths) {
    if (!Object.hasOwn(allowed, path)) throw invalidArgument("update_mask", `"${path}" cannot be updated (allowed: ${Object.keys(allowed).join(", ")})`);
  }
  return mask.paths;
}

function patchFrom(req: { user?: User; passwordHash: string; updateMask?: FieldMask }): UserPatch {
  const patch: Record<string, unknown> = {};
  for (const path of maskPaths(req.updateMask, UPDATABLE)) {
    const field = UPDATABLE[path];
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

/** update_mask paths of UpdateApplication and the field each sets. */
const APPLICATION_UPDATABLE: Record<string, keyof ApplicationPatch> = {
  name: "name",
  description: "description",
  bot_user_id: "botUserId",
  bot_public: "botPublic",
  bot_require_code_grant: "botRequireCodeGrant",
  icon: "icon",
  verify_key: "verifyKey",
  flags: "flags",
  private_key: "privateKey",
  interactions_endpoint_url: "interactionsEndpointUrl",
};

/** Checks the application fields a create or update sets (`fields`), naming them with `prefix`. */
function checkApplicationFields(prefix: string, app: Application, fields: { name: boolean; description: boolean; botUserId: boolean }): void {
  if (fields.name) {
    if (app.name.trim() === "") throw invalidArgument(`${prefix}name`, "required");
    if (app.name.length > MAX_APPLICATION_NAME_LENGTH) throw invalidArgument(`${prefix}name`, `at most ${MAX_APPLICATION_NAME_LENGTH} characters`);
  }
  if (fields.description && app.description.length > MAX_APPLICATION_DESCRIPTION_LENGTH) {
    throw invalidArgument(`${prefix}description`, `at most ${MAX_APPLICATION_DESCRIPTION_LENGTH} characters`);
  }
  if (fields.botUserId && app.botUserId !== undefined) requireId(`${prefix}bot_user_id`, app.botUserId);
}

function applicationPatchFrom(req: { application?: Application; updateMask?: FieldMask }): ApplicationPatch {
  const patch: Record<string, unknown> = {};
  for (const path of maskPaths(req.updateMask, APPLICATION_UPDATABLE)) {
    if (!req.application) throw invalidArgument("application", `required with update_mask path "${path}"`);
    const field = APPLICATION_UPDATABLE[path];
    patch[field] = req.application[field];
  }
  checkApplicationFields("application.", req.application!, { name: "name" in patch, description: "description" in patch, botUserId: "botUserId" in patch });
  return patch as ApplicationPatch;
}

const RELATIONSHIP_TYPES = new Set<RelationshipType>([
  RelationshipType.FRIEND,
  RelationshipType.BLOCKED,
  RelationshipType.INCOMING_REQUEST,
  RelationshipType.OUTGOING_REQUEST,
]);

function relationshipMessage(record: RelationshipRecord): Relationship {
  return create(RelationshipSchema, {
    userId: record.userId,
    peerId: record.peerId,
    type: record.type,
    since: timestampFromMs(record.sinceMs),
    nickname: record.nickname,
  });
}

function requireTokenKind(field: string, kind: TokenKind): TokenKind {
  if (kind !== TokenKind.USER && kind !== TokenKind.BOT) throw invalidArgument(field, "must be USER or BOT");
  return kind;
}

const notFound = (what: string) => new ConnectError(`${what} not found`, Code.NotFound);

/**
 * chorus.storage.v1.AccountStorageService on top of an AccountStore: validation that names the
 * bad field, ALREADY_EXISTS naming the unique field another account (or application) holds,
 * NOT_FOUND for missing accounts, tokens and applications, UNAVAILABLE when the database
 * cannot be reached.
 */
export function createAccountHandlers(store: AccountStore): ServiceImpl<typeof AccountStorageService> {
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
      requireTokenKind("token.kind", token.kind);
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

    async revokeUserTokens(req) {
      const userId = requireId("user_id", req.userId);
      const kind = requireTokenKind("kind", req.kind);
      return { revoked: await guarded(() => store.revokeUserTokens(userId, kind)) };
    },

    async putRelationship(req) {
      const relationship = req.relationship;
      if (!relationship) throw invalidArgument("relationship", "required");
      const userId = requireId("relationship.user_id", relationship.userId);
      const peerId = requireId("relationship.peer_id", relationship.peerId);
      if (peerId === userId) throw invalidArgument("relationship.peer_id", "must differ from user_id");
      if (!RELATIONSHIP_TYPES.has(relationship.type)) {
        throw invalidArgument("relationship.type", "must be FRIEND, BLOCKED, INCOMING_REQUEST or OUTGOING_REQUEST");
      }
      const record = await guarded(() => store.putRelationship({ userId, peerId, type: relationship.type, nickname: relationship.nickname }));
      return { relationship: relationshipMessage(record) };
    },

    async deleteRelationship(req) {
      const userId = requireId("user_id", req.userId);
      const peerId = requireId("peer_id", req.peerId);
      return { deleted: await guarded(() => store.deleteRelationship(userId, peerId)) };
    },

    async listRelationships(req) {
      const userId = requireId("user_id", req.userId);
      return { relationships: (await guarded(() => store.listRelationships(userId))).map(relationshipMessage) };
    },

    async createApplication(req) {
      const application = req.application;
      if (!application) throw invalidArgument("application", "required");
      requireId("application.id", application.id);
      requireId("application.owner_id", application.ownerId);
      checkApplicationFields("application.", application, { name: true, description: true, botUserId: true });
      return { application: await guarded(() => store.createApplication(application)) };
    },

    async getApplication(req) {
      const applicationId = requireId("application_id", req.applicationId);
      const application = await guarded(() => store.getApplication(applicationId));
      if (!application) throw notFound(`application ${applicationId}`);
      return { application };
    },

    async updateApplication(req) {
      const applicationId = requireId("application_id", req.applicationId);
      const patch = applicationPatchFrom(req);
      const application = await guarded(() => store.updateApplication(applicationId, patch));
      if (!application) throw notFound(`application ${applicationId}`);
      return { application };
    },

    async listApplications(req) {
      const ownerId = requireId("owner_id", req.ownerId);
      return { applications: await guarded(() => store.listApplications(ownerId)) };
    },
  };
}
