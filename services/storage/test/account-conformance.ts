// The account storage contract, end to end, against any AccountStore: the real handlers
// served through an in-memory Connect router and called with the generated client. Both
// backends run this suite (sqlite-account-store.test.ts, cassandra-account-store.test.ts),
// which is what "identical semantics" means. Names, emails and ids are random per run, so the
// suite also runs on a shared Cassandra keyspace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import {
  AccountStorageService,
  ApplicationSchema,
  RelationshipType,
  TokenKind,
  type Application,
  type Relationship,
} from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { createAccountHandlers, MAX_APPLICATION_DESCRIPTION_LENGTH, MAX_APPLICATION_NAME_LENGTH } from "../src/account-handlers.js";
import type { AccountStore } from "../src/account-store.js";
import { rejectsWith } from "./conformance.js";

type AccountClient = Client<typeof AccountStorageService>;

/** The real handlers over `store`, served through the in-memory Connect router. */
export function serveAccounts(store: AccountStore): AccountClient {
  const transport = createRouterTransport((router) => {
    router.service(AccountStorageService, createAccountHandlers(store));
  });
  return createClient(AccountStorageService, transport);
}

const mask = (...paths: string[]) => ({ paths });
const tokenHash = () => createHash("sha256").update(randomBytes(32)).digest();

/**
 * Registers the account storage contract suite for one backend.
 *
 * @param makeStore returns a fresh, OPEN store.
 * @param cleanup   runs after the store is closed (e.g. removes a database file).
 */
export function describeAccountConformance(name: string, makeStore: () => Promise<AccountStore>, cleanup?: () => Promise<void> | void): void {
  describe(`account storage contract (${name})`, () => {
    let store: AccountStore;
    let accounts: AccountClient;
    const generator = new SnowflakeGenerator({ workerId: Math.floor(Math.random() * 32), processId: Math.floor(Math.random() * 32) });
    const run = randomBytes(4).toString("hex");
    let serial = 0;
    /** A username no other run or test uses. */
    const freshName = (prefix = "user") => `${prefix}_${run}_${++serial}`;

    before(async () => {
      store = await makeStore();
      accounts = serveAccounts(store);
    });

    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    const newUser = (init: Exclude<MessageInitShape<typeof UserSchema>, User> = {}) => {
      const username = freshName();
      return create(UserSchema, { id: generator.next(), username, email: `${username}@example.com`, locale: "en-US", ...init });
    };

    async function register(init: Exclude<MessageInitShape<typeof UserSchema>, User> = {}, passwordHash = "hash-1") {
      const user = newUser(init);
      const res = await accounts.createUser({ user, passwordHash });
      assert.deepEqual(res.user, user, "CreateUser returns the account as stored");
      return user;
    }

    const get = async (userId: bigint) => (await accounts.getUser({ userId })).user;

    describe("CreateUser and GetUser", () => {
      it("stores every field and reads it back", async () => {
        const user = await register({
          globalName: "Alice ✨",
          avatar: "a_0123456789abcdef0123456789abcdef",
          flags: 1n << 40n | 64n,
          verified: true,
          locale: "fr",
        });
        assert.deepEqual(await get(user.id), user);
      });

      it("keeps unset optional fields unset (a bot without email, global name or avatar)", async () => {
        const bot = await register({ email: undefined, bot: true });
        const read = await get(bot.id);
        assert.equal(read?.email, undefined);
        assert.equal(read?.globalName, undefined);
        assert.equal(read?.avatar, undefined);
        assert.equal(read?.bot, true);
        // Any number of accounts may have no email.
        await register({ email: undefined, bot: true });
      });

      it("GetUser of an unknown account is NOT_FOUND; a zero id is INVALID_ARGUMENT naming user_id", async () => {
        await rejectsWith(accounts.getUser({ userId: generator.next() }), Code.NotFound);
        await rejectsWith(accounts.getUser({ userId: 0n }), Code.InvalidArgument, "user_id");
      });

      it("rejects bad accounts naming the field", async () => {
        await rejectsWith(accounts.createUser({ passwordHash: "h" }), Code.InvalidArgument, "user");
        await rejectsWith(accounts.createUser({ user: newUser({ id: 0n }) }), Code.InvalidArgument, "user.id");
        await rejectsWith(accounts.createUser({ user: newUser({ id: 1n << 63n }) }), Code.InvalidArgument, "user.id");
        await rejectsWith(accounts.createUser({ user: newUser({ username: " " }) }), Code.InvalidArgument, "user.username");
        await rejectsWith(accounts.createUser({ user: newUser({ username: "a@b" }) }), Code.InvalidArgument, "user.username");
        await rejectsWith(accounts.createUser({ user: newUser({ email: "" }) }), Code.InvalidArgument, "user.email");
      });

      it("a taken username is ALREADY_EXISTS naming username, whatever its case", async () => {
        const first = await register();
        const clash = newUser({ username: first.username.toUpperCase() });
        await rejectsWith(accounts.createUser({ user: clash, passwordHash: "h" }), Code.AlreadyExists, "username");
        await rejectsWith(accounts.getUser({ userId: clash.id }), Code.NotFound);
        // The refused account's email was not kept: another account can use it.
        await register({ email: clash.email });
      });

      it("a taken email is ALREADY_EXISTS naming email, whatever its case", async () => {
        const first = await register();
        const clash = newUser({ email: first.email!.toUpperCase() });
        await rejectsWith(accounts.createUser({ user: clash, passwordHash: "h" }), Code.AlreadyExists, "email");
        await rejectsWith(accounts.getUser({ userId: clash.id }), Code.NotFound);
        // The refused account's username was released: another account can take it.
        await register({ username: clash.username });
      });

      it("creating the same account again returns it (a retry is harmless)", async () => {
        const user = await register();
        const again = await accounts.createUser({ user, passwordHash: "hash-1" });
        assert.deepEqual(again.user, user);
        assert.deepEqual(await get(user.id), user);
      });

      it("another account with a taken id is ALREADY_EXISTS naming id, and keeps none of its names", async () => {
        const user = await register();
        const other = newUser({ id: user.id });
        await rejectsWith(accounts.createUser({ user: other, passwordHash: "h" }), Code.AlreadyExists, "id");
        assert.deepEqual(await get(user.id), user);
        await register({ username: other.username, email: other.email });
      });

      it("of concurrent creates with one username, exactly one wins", async () => {
        const username = freshName("race");
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => accounts.createUser({ user: newUser({ username }), passwordHash: "h" })),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        assert.equal(won.length, 1, `${won.length} creates won`);
        for (const r of results) {
          if (r.status === "rejected") {
            assert.ok(r.reason instanceof ConnectError && r.reason.code === Code.AlreadyExists, String(r.reason));
            assert.match(r.reason.rawMessage, /^username:/);
          }
        }
        const found = await accounts.findUserByLogin({ login: username });
        assert.equal(found.user?.id, won[0].status === "fulfilled" ? won[0].value.user?.id : undefined);
      });

      it("of concurrent creates with one email, exactly one wins and the others' usernames are free again", async () => {
        const email = `${freshName("race")}@example.com`;
        const users = Array.from({ length: 8 }, () => newUser({ email }));
        const results = await Promise.allSettled(users.map((user) => accounts.createUser({ user, passwordHash: "h" })));
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        for (const [i, r] of results.entries()) {
          if (r.status === "fulfilled") continue;
          assert.match((r.reason as ConnectError).rawMessage, /^email:/);
          await register({ username: users[i].username });
        }
      });
    });

    describe("FindUserByLogin", () => {
      it("finds an account by username or email, ignoring case, with its password hash", async () => {
        const user = await register({ email: `${freshName("Mixed")}@Example.COM` }, "scrypt$params$salt$hash");
        for (const login of [user.username, user.username.toUpperCase(), user.email!, user.email!.toLowerCase(), ` ${user.email!} `]) {
          const found = await accounts.findUserByLogin({ login });
          assert.deepEqual(found.user, user, login);
          assert.equal(found.passwordHash, "scrypt$params$salt$hash");
        }
      });

      it("an unknown login is NOT_FOUND; an empty one is INVALID_ARGUMENT naming login", async () => {
        await rejectsWith(accounts.findUserByLogin({ login: freshName() }), Code.NotFound);
        await rejectsWith(accounts.findUserByLogin({ login: `${freshName()}@example.com` }), Code.NotFound);
        await rejectsWith(accounts.findUserByLogin({ login: "" }), Code.InvalidArgument, "login");
      });
    });

    describe("UpdateUser", () => {
      it("changes the named fields only, and clears optional ones named without a value", async () => {
        const user = await register({ globalName: "Before", avatar: "abc" });
        const res = await accounts.updateUser({
          userId: user.id,
          user: { globalName: "After", locale: "de", verified: true, flags: 4n, avatar: undefined, username: "ignored" },
          updateMask: mask("global_name", "locale", "verified", "flags", "avatar"),
        });
        const { avatar: _, ...withoutAvatar } = user;
        const expected = create(UserSchema, { ...withoutAvatar, globalName: "After", locale: "de", verified: true, flags: 4n });
        assert.deepEqual(res.user, expected);
        assert.deepEqual(await get(user.id), expected);

        const cleared = await accounts.updateUser({ userId: user.id, user: {}, updateMask: mask("global_name") });
        assert.equal(cleared.user?.globalName, undefined);
        assert.equal((await get(user.id))?.globalName, undefined);
      });

      it("renames: the new name logs in, the old one is free for others", async () => {
        const user = await register();
        const renamed = freshName("renamed");
        const res = await accounts.updateUser({ userId: user.id, user: { username: renamed }, updateMask: mask("username") });
        assert.equal(res.user?.username, renamed);
        assert.equal((await accounts.findUserByLogin({ login: renamed })).user?.id, user.id);
        await rejectsWith(accounts.findUserByLogin({ login: user.username }), Code.NotFound);
        await register({ username: user.username });
      });

      it("a rename to a taken username or email is ALREADY_EXISTS naming it, and changes nothing", async () => {
        const taken = await register();
        const user = await register();
        await rejectsWith(
          accounts.updateUser({ userId: user.id, user: { username: taken.username.toUpperCase(), globalName: "x" }, updateMask: mask("username", "global_name") }),
          Code.AlreadyExists,
          "username",
        );
        await rejectsWith(
          accounts.updateUser({ userId: user.id, user: { email: taken.email }, updateMask: mask("email") }),
          Code.AlreadyExists,
          "email",
        );
        assert.deepEqual(await get(user.id), user);
        assert.equal((await accounts.findUserByLogin({ login: taken.username })).user?.id, taken.id);
      });

      it("changing or clearing the email frees the old one", async () => {
        const user = await register();
        const newEmail = `${freshName()}@example.org`;
        await accounts.updateUser({ userId: user.id, user: { email: newEmail }, updateMask: mask("email") });
        assert.equal((await accounts.findUserByLogin({ login: newEmail })).user?.id, user.id);
        await rejectsWith(accounts.findUserByLogin({ login: user.email! }), Code.NotFound);
        await register({ email: user.email });

        const res = await accounts.updateUser({ userId: user.id, user: {}, updateMask: mask("email") });
        assert.equal(res.user?.email, undefined);
        await rejectsWith(accounts.findUserByLogin({ login: newEmail }), Code.NotFound);
        await register({ email: newEmail });
      });

      it("changes the password hash", async () => {
        const user = await register({}, "old-hash");
        const res = await accounts.updateUser({ userId: user.id, passwordHash: "new-hash", updateMask: mask("password_hash") });
        assert.deepEqual(res.user, user);
        assert.equal((await accounts.findUserByLogin({ login: user.username })).passwordHash, "new-hash");
      });

      it("of two accounts renamed to one name at once, exactly one gets it", async () => {
        const [a, b] = [await register(), await register()];
        const wanted = freshName("wanted");
        const results = await Promise.allSettled(
          [a, b].map((u) => accounts.updateUser({ userId: u.id, user: { username: wanted }, updateMask: mask("username") })),
        );
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        const owner = (await accounts.findUserByLogin({ login: wanted })).user!;
        const loser = owner.id === a.id ? b : a;
        assert.deepEqual(await get(loser.id), loser, "the other account kept its name");
      });

      it("never creates an account, and names bad masks", async () => {
        const missing = generator.next();
        await rejectsWith(accounts.updateUser({ userId: missing, user: { globalName: "x" }, updateMask: mask("global_name") }), Code.NotFound);
        await rejectsWith(accounts.updateUser({ userId: missing, user: { username: freshName() }, updateMask: mask("username") }), Code.NotFound);
        await rejectsWith(accounts.getUser({ userId: missing }), Code.NotFound);
        const user = await register();
        await rejectsWith(accounts.updateUser({ userId: user.id, user: {} }), Code.InvalidArgument, "update_mask");
        await rejectsWith(accounts.updateUser({ userId: user.id, user: {}, updateMask: mask("id") }), Code.InvalidArgument, "update_mask");
        await rejectsWith(accounts.updateUser({ userId: user.id, updateMask: mask("global_name") }), Code.InvalidArgument, "user");
        await rejectsWith(accounts.updateUser({ userId: user.id, user: { username: "" }, updateMask: mask("username") }), Code.InvalidArgument, "user.username");
        await rejectsWith(accounts.updateUser({ userId: 0n, user: {}, updateMask: mask("global_name") }), Code.InvalidArgument, "user_id");
      });
    });

    describe("tokens", () => {
      it("CreateToken, ResolveToken, RevokeToken", async () => {
        const user = await register();
        const hash = tokenHash();
        const before = Date.now();
        const created = (await accounts.createToken({ token: { tokenHash: hash, userId: user.id, kind: TokenKind.USER } })).token!;
        assert.deepEqual(created.tokenHash, new Uint8Array(hash));
        assert.equal(created.userId, user.id);
        assert.equal(created.kind, TokenKind.USER);
        const createdAt = timestampMs(created.createdAt!);
        assert.ok(createdAt >= before - 1000 && createdAt <= Date.now() + 1000, `created_at ${createdAt} is now`);

        const resolved = (await accounts.resolveToken({ tokenHash: hash })).token!;
        assert.deepEqual(resolved, created);

        assert.equal((await accounts.revokeToken({ tokenHash: hash })).revoked, true);
        await rejectsWith(accounts.resolveToken({ tokenHash: hash }), Code.NotFound);
        assert.equal((await accounts.revokeToken({ tokenHash: hash })).revoked, false);
      });

      it("recording a token again returns the first record; for another user it is ALREADY_EXISTS", async () => {
        const user = await register();
        const hash = tokenHash();
        const first = (await accounts.createToken({ token: { tokenHash: hash, userId: user.id, kind: TokenKind.BOT } })).token!;
        await new Promise((resolve) => setTimeout(resolve, 5));
        const again = (await accounts.createToken({ token: { tokenHash: hash, userId: user.id, kind: TokenKind.BOT } })).token!;
        assert.deepEqual(again, first);
        await rejectsWith(
          accounts.createToken({ token: { tokenHash: hash, userId: generator.next(), kind: TokenKind.USER } }),
          Code.AlreadyExists,
          "token_hash",
        );
        assert.equal((await accounts.resolveToken({ tokenHash: hash })).token?.userId, user.id);
      });

      it("unknown tokens are NOT_FOUND and bad requests name the field", async () => {
        await rejectsWith(accounts.resolveToken({ tokenHash: tokenHash() }), Code.NotFound);
        await rejectsWith(accounts.resolveToken({ tokenHash: new Uint8Array(31) }), Code.InvalidArgument, "token_hash");
        await rejectsWith(accounts.revokeToken({ tokenHash: new Uint8Array(0) }), Code.InvalidArgument, "token_hash");
        await rejectsWith(accounts.createToken({}), Code.InvalidArgument, "token");
        await rejectsWith(
          accounts.createToken({ token: { tokenHash: tokenHash(), userId: 5n, kind: TokenKind.UNSPECIFIED } }),
          Code.InvalidArgument,
          "token.kind",
        );
        await rejectsWith(
          accounts.createToken({ token: { tokenHash: tokenHash(), userId: 0n, kind: TokenKind.USER } }),
          Code.InvalidArgument,
          "token.user_id",
        );
      });
    });

    describe("RevokeUserTokens", () => {
      const createToken = async (userId: bigint, kind: TokenKind, hash = tokenHash()) => {
        await accounts.createToken({ token: { tokenHash: hash, userId, kind } });
        return hash;
      };
      const resolves = async (hash: Uint8Array) => {
        try {
          await accounts.resolveToken({ tokenHash: hash });
          return true;
        } catch (err) {
          if (err instanceof ConnectError && err.code === Code.NotFound) return false;
          throw err;
        }
      };

      it("revokes every token of the user of that kind, and only those", async () => {
        const [alice, bob] = [generator.next(), generator.next()];
        const aliceUser = [await createToken(alice, TokenKind.USER), await createToken(alice, TokenKind.USER), await createToken(alice, TokenKind.USER)];
        const aliceBot = [await createToken(alice, TokenKind.BOT), await createToken(alice, TokenKind.BOT)];
        const bobBot = [await createToken(bob, TokenKind.BOT)];
        const bobUser = [await createToken(bob, TokenKind.USER)];

        assert.equal((await accounts.revokeUserTokens({ userId: alice, kind: TokenKind.BOT })).revoked, 2);
        for (const hash of aliceBot) assert.equal(await resolves(hash), false, "alice's bot tokens are revoked");
        for (const hash of [...aliceUser, ...bobBot, ...bobUser]) assert.equal(await resolves(hash), true, "other kinds and users keep theirs");
        assert.equal((await accounts.revokeUserTokens({ userId: alice, kind: TokenKind.BOT })).revoked, 0, "again: nothing left");

        // A token revoked on its own is not counted again.
        await accounts.revokeToken({ tokenHash: aliceUser[0] });
        assert.equal((await accounts.revokeUserTokens({ userId: alice, kind: TokenKind.USER })).revoked, 2);
        for (const hash of aliceUser) assert.equal(await resolves(hash), false);
        for (const hash of [...bobBot, ...bobUser]) assert.equal(await resolves(hash), true);
        assert.equal((await accounts.revokeUserTokens({ userId: generator.next(), kind: TokenKind.USER })).revoked, 0, "an unknown user");

        // Tokens recorded after a revoke are revoked by the next one.
        const later = await createToken(alice, TokenKind.BOT);
        assert.equal((await accounts.revokeUserTokens({ userId: alice, kind: TokenKind.BOT })).revoked, 1);
        assert.equal(await resolves(later), false);
      });

      it("never revokes a token that a refused CreateToken named (another user's, or another kind)", async () => {
        const [owner, other] = [generator.next(), generator.next()];
        const hash = await createToken(owner, TokenKind.USER);
        await rejectsWith(accounts.createToken({ token: { tokenHash: hash, userId: other, kind: TokenKind.USER } }), Code.AlreadyExists, "token_hash");
        assert.equal((await accounts.createToken({ token: { tokenHash: hash, userId: owner, kind: TokenKind.BOT } })).token?.kind, TokenKind.USER, "the first record stands");
        assert.equal((await accounts.revokeUserTokens({ userId: other, kind: TokenKind.USER })).revoked, 0);
        assert.equal((await accounts.revokeUserTokens({ userId: owner, kind: TokenKind.BOT })).revoked, 0);
        assert.equal(await resolves(hash), true);
        assert.equal((await accounts.revokeUserTokens({ userId: owner, kind: TokenKind.USER })).revoked, 1);
        assert.equal(await resolves(hash), false);
      });

      it("names the bad field", async () => {
        await rejectsWith(accounts.revokeUserTokens({ userId: 0n, kind: TokenKind.BOT }), Code.InvalidArgument, "user_id");
        await rejectsWith(accounts.revokeUserTokens({ userId: 1n << 63n, kind: TokenKind.BOT }), Code.InvalidArgument, "user_id");
        await rejectsWith(accounts.revokeUserTokens({ userId: generator.next(), kind: TokenKind.UNSPECIFIED }), Code.InvalidArgument, "kind");
        await rejectsWith(accounts.revokeUserTokens({ userId: generator.next(), kind: 7 as TokenKind }), Code.InvalidArgument, "kind");
      });
    });

    describe("relationships", () => {
      const list = async (userId: bigint) => (await accounts.listRelationships({ userId })).relationships;
      /** A relationship without its since (set by storage), to compare the rest. */
      const sideOf = (r: Relationship) => ({ userId: r.userId, peerId: r.peerId, type: r.type, nickname: r.nickname });

      it("puts, replaces, deletes and lists by ascending peer id", async () => {
        const user = generator.next();
        const peers = [generator.next(), generator.next(), generator.next(), generator.next()];
        assert.deepEqual(await list(user), []);
        const before = Date.now();
        const put = await accounts.putRelationship({ relationship: { userId: user, peerId: peers[2], type: RelationshipType.FRIEND } });
        assert.deepEqual(sideOf(put.relationship!), { userId: user, peerId: peers[2], type: RelationshipType.FRIEND, nickname: undefined });
        const since = timestampMs(put.relationship!.since!);
        assert.ok(since >= before - 1000 && since <= Date.now() + 1000, `since ${since} is now`);
        await accounts.putRelationship({ relationship: { userId: user, peerId: peers[0], type: RelationshipType.BLOCKED, nickname: "" } });
        await accounts.putRelationship({ relationship: { userId: user, peerId: peers[3], type: RelationshipType.OUTGOING_REQUEST } });
        await accounts.putRelationship({ relationship: { userId: user, peerId: peers[1], type: RelationshipType.INCOMING_REQUEST, nickname: "Bob ✨" } });

        const listed = await list(user);
        assert.deepEqual(listed.map(sideOf), [
          { userId: user, peerId: peers[0], type: RelationshipType.BLOCKED, nickname: "" },
          { userId: user, peerId: peers[1], type: RelationshipType.INCOMING_REQUEST, nickname: "Bob ✨" },
          { userId: user, peerId: peers[2], type: RelationshipType.FRIEND, nickname: undefined },
          { userId: user, peerId: peers[3], type: RelationshipType.OUTGOING_REQUEST, nickname: undefined },
        ]);
        assert.deepEqual(listed[2], put.relationship, "a listed relationship is what the put returned");

        // Replace: the request is accepted, becoming a friend with a nickname; then the nickname is dropped.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const accepted = (await accounts.putRelationship({ relationship: { userId: user, peerId: peers[1], type: RelationshipType.FRIEND, nickname: "Bobby" } })).relationship!;
        assert.ok(timestampMs(accepted.since!) > timestampMs(listed[1].since!), "since moves on every write");
        await accounts.putRelationship({ relationship: { userId: user, peerId: peers[1], type: RelationshipType.FRIEND } });
        assert.deepEqual((await list(user)).map(sideOf)[1], { userId: user, peerId: peers[1], type: RelationshipType.FRIEND, nickname: undefined });
        assert.equal((await list(user)).length, 4, "a replace adds nothing");

        assert.equal((await accounts.deleteRelationship({ userId: user, peerId: peers[2] })).deleted, true);
        assert.equal((await accounts.deleteRelationship({ userId: user, peerId: peers[2] })).deleted, false, "deleted already");
        assert.equal((await accounts.deleteRelationship({ userId: user, peerId: generator.next() })).deleted, false, "never existed");
        assert.deepEqual((await list(user)).map((r) => r.peerId), [peers[0], peers[1], peers[3]]);
      });

      it("keeps each side apart: what one user sees of another is its own row", async () => {
        const [alice, bob] = [generator.next(), generator.next()];
        await accounts.putRelationship({ relationship: { userId: alice, peerId: bob, type: RelationshipType.OUTGOING_REQUEST } });
        await accounts.putRelationship({ relationship: { userId: bob, peerId: alice, type: RelationshipType.INCOMING_REQUEST } });
        assert.deepEqual((await list(alice)).map(sideOf), [{ userId: alice, peerId: bob, type: RelationshipType.OUTGOING_REQUEST, nickname: undefined }]);
        assert.deepEqual((await list(bob)).map(sideOf), [{ userId: bob, peerId: alice, type: RelationshipType.INCOMING_REQUEST, nickname: undefined }]);
        await accounts.deleteRelationship({ userId: bob, peerId: alice });
        assert.deepEqual(await list(bob), []);
        assert.equal((await list(alice)).length, 1, "deleting one side leaves the other");
      });

      it("names the bad field", async () => {
        const [user, peer] = [generator.next(), generator.next()];
        const put = (init: { userId?: bigint; peerId?: bigint; type?: RelationshipType }) =>
          accounts.putRelationship({ relationship: { userId: user, peerId: peer, type: RelationshipType.FRIEND, ...init } });
        await rejectsWith(accounts.putRelationship({}), Code.InvalidArgument, "relationship");
        await rejectsWith(put({ userId: 0n }), Code.InvalidArgument, "relationship.user_id");
        await rejectsWith(put({ peerId: 0n }), Code.InvalidArgument, "relationship.peer_id");
        await rejectsWith(put({ peerId: 1n << 63n }), Code.InvalidArgument, "relationship.peer_id");
        await rejectsWith(put({ peerId: user }), Code.InvalidArgument, "relationship.peer_id");
        await rejectsWith(put({ type: RelationshipType.UNSPECIFIED }), Code.InvalidArgument, "relationship.type");
        await rejectsWith(put({ type: 9 as RelationshipType }), Code.InvalidArgument, "relationship.type");
        await rejectsWith(accounts.deleteRelationship({ userId: 0n, peerId: peer }), Code.InvalidArgument, "user_id");
        await rejectsWith(accounts.deleteRelationship({ userId: user, peerId: 0n }), Code.InvalidArgument, "peer_id");
        await rejectsWith(accounts.listRelationships({ userId: 0n }), Code.InvalidArgument, "user_id");
        assert.deepEqual(await list(user), [], "nothing was written");
      });
    });

    describe("applications", () => {
      const newApplication = (init: Exclude<MessageInitShape<typeof ApplicationSchema>, Application> = {}) =>
        create(ApplicationSchema, { id: generator.next(), name: freshName("app"), ownerId: generator.next(), verifyKey: "ab".repeat(32), ...init });
      const getApplication = async (applicationId: bigint) => (await accounts.getApplication({ applicationId })).application;
      const listApplications = async (ownerId: bigint) => (await accounts.listApplications({ ownerId })).applications;

      it("creates with every field and reads it back; a retry returns the stored application", async () => {
        const app = newApplication({
          description: "d".repeat(MAX_APPLICATION_DESCRIPTION_LENGTH),
          botUserId: generator.next(),
          botPublic: true,
          botRequireCodeGrant: true,
          icon: "0123456789abcdef0123456789abcdef",
          flags: (1n << 63n) | (1n << 23n),
          privateKey: "ef".repeat(32),
          interactionsEndpointUrl: "https://example.com/interactions",
        });
        assert.deepEqual((await accounts.createApplication({ application: app })).application, app);
        assert.deepEqual(await getApplication(app.id), app);
        assert.deepEqual((await accounts.createApplication({ application: app })).application, app, "a retry");
        assert.deepEqual(await listApplications(app.ownerId), [app], "listed once");

        const bare = newApplication({ name: "x".repeat(MAX_APPLICATION_NAME_LENGTH) });
        await accounts.createApplication({ application: bare });
        const read = await getApplication(bare.id);
        assert.deepEqual(read, bare);
        assert.equal(read?.botUserId, undefined);
        assert.equal(read?.icon, undefined);
      });

      it("another application with a taken id is ALREADY_EXISTS naming id, and changes nothing", async () => {
        const app = newApplication();
        await accounts.createApplication({ application: app });
        const byOther = newApplication({ id: app.id });
        await rejectsWith(accounts.createApplication({ application: byOther }), Code.AlreadyExists, "id");
        const sameOwner = newApplication({ id: app.id, ownerId: app.ownerId });
        await rejectsWith(accounts.createApplication({ application: sameOwner }), Code.AlreadyExists, "id");
        assert.deepEqual(await getApplication(app.id), app);
        assert.deepEqual(await listApplications(byOther.ownerId), [], "the refused owner lists nothing");
        assert.deepEqual(await listApplications(app.ownerId), [app]);
      });

      it("of concurrent creates of one id by different owners, exactly one wins", async () => {
        const id = generator.next();
        const apps = Array.from({ length: 8 }, () => newApplication({ id }));
        const results = await Promise.allSettled(apps.map((application) => accounts.createApplication({ application })));
        const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [apps[i]] : []));
        assert.equal(won.length, 1, `${won.length} creates won`);
        for (const r of results) {
          if (r.status === "rejected") assert.ok(r.reason instanceof ConnectError && r.reason.code === Code.AlreadyExists, String(r.reason));
        }
        assert.deepEqual(await getApplication(id), won[0]);
        for (const app of apps) assert.deepEqual(await listApplications(app.ownerId), app === won[0] ? [app] : []);
      });

      it("GetApplication of an unknown id is NOT_FOUND", async () => {
        await rejectsWith(accounts.getApplication({ applicationId: generator.next() }), Code.NotFound);
        await rejectsWith(accounts.getApplication({ applicationId: 0n }), Code.InvalidArgument, "application_id");
      });

      it("UpdateApplication changes the named fields only, clearing optional ones named without a value", async () => {
        const app = newApplication({ description: "before", icon: "abc", botPublic: true, flags: 8n });
        await accounts.createApplication({ application: app });
        const botUserId = generator.next();
        const res = await accounts.updateApplication({
          applicationId: app.id,
          application: { name: "Renamed", description: "after", botUserId, botPublic: false, icon: undefined, flags: 1n << 63n, ownerId: 5n, verifyKey: "ignored" },
          updateMask: mask("name", "description", "bot_user_id", "bot_public", "icon", "flags"),
        });
        const { icon: _, ...withoutIcon } = app;
        const expected = create(ApplicationSchema, { ...withoutIcon, name: "Renamed", description: "after", botUserId, botPublic: false, flags: 1n << 63n });
        assert.deepEqual(res.application, expected);
        assert.deepEqual(await getApplication(app.id), expected);
        assert.deepEqual(await listApplications(app.ownerId), [expected], "the owner did not change");

        const again = await accounts.updateApplication({
          applicationId: app.id,
          application: { verifyKey: "cd".repeat(32), botRequireCodeGrant: true },
          updateMask: mask("verify_key", "bot_require_code_grant", "bot_user_id"),
        });
        const { botUserId: __, ...withoutBot } = expected;
        assert.deepEqual(again.application, create(ApplicationSchema, { ...withoutBot, verifyKey: "cd".repeat(32), botRequireCodeGrant: true }));
        assert.deepEqual(await getApplication(app.id), again.application);

        // The interaction key and endpoint (migration 11): set, then the endpoint cleared.
        const keyed = await accounts.updateApplication({
          applicationId: app.id,
          application: { privateKey: "01".repeat(32), interactionsEndpointUrl: "http://127.0.0.1:1/i" },
          updateMask: mask("private_key", "interactions_endpoint_url"),
        });
        assert.equal(keyed.application?.privateKey, "01".repeat(32));
        assert.deepEqual(await getApplication(app.id), keyed.application);
        const cleared = await accounts.updateApplication({ applicationId: app.id, application: {}, updateMask: mask("interactions_endpoint_url") });
        assert.equal(cleared.application?.interactionsEndpointUrl, "");
        assert.deepEqual(await getApplication(app.id), create(ApplicationSchema, { ...keyed.application, interactionsEndpointUrl: "" }));
      });

      it("UpdateApplication never creates one, and names bad masks and fields", async () => {
        const missing = generator.next();
        await rejectsWith(accounts.updateApplication({ applicationId: missing, application: { name: "x" }, updateMask: mask("name") }), Code.NotFound);
        await rejectsWith(accounts.getApplication({ applicationId: missing }), Code.NotFound);
        const app = newApplication();
        await accounts.createApplication({ application: app });
        const update = (application: Exclude<MessageInitShape<typeof ApplicationSchema>, Application> | undefined, ...paths: string[]) =>
          accounts.updateApplication({ applicationId: app.id, application, updateMask: paths.length > 0 ? mask(...paths) : undefined });
        await rejectsWith(update({ name: "x" }), Code.InvalidArgument, "update_mask");
        for (const path of ["owner_id", "id", "constructor"]) await rejectsWith(update({ name: "x" }, path), Code.InvalidArgument, "update_mask");
        await rejectsWith(update(undefined, "name"), Code.InvalidArgument, "application");
        await rejectsWith(update({ name: " " }, "name"), Code.InvalidArgument, "application.name");
        await rejectsWith(update({ name: "x".repeat(MAX_APPLICATION_NAME_LENGTH + 1) }, "name"), Code.InvalidArgument, "application.name");
        await rejectsWith(update({ description: "d".repeat(MAX_APPLICATION_DESCRIPTION_LENGTH + 1) }, "description"), Code.InvalidArgument, "application.description");
        await rejectsWith(update({ botUserId: 1n << 63n }, "bot_user_id"), Code.InvalidArgument, "application.bot_user_id");
        await rejectsWith(accounts.updateApplication({ applicationId: 0n, application: { name: "x" }, updateMask: mask("name") }), Code.InvalidArgument, "application_id");
        assert.deepEqual(await getApplication(app.id), app, "nothing changed");
      });

      it("ListApplications returns an owner's applications by ascending id", async () => {
        const [owner, other] = [generator.next(), generator.next()];
        const apps = [newApplication({ ownerId: owner }), newApplication({ ownerId: owner }), newApplication({ ownerId: owner })];
        const others = newApplication({ ownerId: other });
        for (const app of [apps[1], others, apps[2], apps[0]]) await accounts.createApplication({ application: app });
        assert.deepEqual(await listApplications(owner), apps);
        assert.deepEqual(await listApplications(other), [others]);
        assert.deepEqual(await listApplications(generator.next()), [], "an owner without applications");
        await rejectsWith(accounts.listApplications({ ownerId: 0n }), Code.InvalidArgument, "owner_id");
      });

      it("CreateApplication names the bad field", async () => {
        const createWith = (init: Exclude<MessageInitShape<typeof ApplicationSchema>, Application>) =>
          accounts.createApplication({ application: newApplication(init) });
        await rejectsWith(accounts.createApplication({}), Code.InvalidArgument, "application");
        await rejectsWith(createWith({ id: 0n }), Code.InvalidArgument, "application.id");
        await rejectsWith(createWith({ id: 1n << 63n }), Code.InvalidArgument, "application.id");
        await rejectsWith(createWith({ ownerId: 0n }), Code.InvalidArgument, "application.owner_id");
        await rejectsWith(createWith({ name: "" }), Code.InvalidArgument, "application.name");
        await rejectsWith(createWith({ name: "x".repeat(MAX_APPLICATION_NAME_LENGTH + 1) }), Code.InvalidArgument, "application.name");
        await rejectsWith(createWith({ description: "d".repeat(MAX_APPLICATION_DESCRIPTION_LENGTH + 1) }), Code.InvalidArgument, "application.description");
        await rejectsWith(createWith({ botUserId: 1n << 63n }), Code.InvalidArgument, "application.bot_user_id");
      });
    });
  });
}
