// Accounts end to end through a running Chorus, whatever its run mode: the Discord v10 REST
// API (checked against Discord's own schemas from discord-api-spec and driven by
// @discordjs/rest), the Connect AccountService on the HTTP edge and on the mesh port, and
// bots' tokens. accounts-embedded.test.ts and accounts-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscordAPIError, REST } from "@discordjs/rest";
import { RESTJSONErrorCodes, Routes, type APIUser } from "discord-api-types/v10";
import { ErrorResponseSchema, UserPIIResponseSchema, UserResponseSchema } from "discord-api-spec/zod";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountService } from "@chorus/contracts/chorus/api/v1/accounts_pb";
import { AccountStorageService, TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { issueToken } from "../src/accounts/tokens.js";
import { assertFormErrors, assertMatches, assertUnauthorized, httpCall, type CallOptions } from "./discord-http.js";

/** What the suite needs of a running Chorus. */
export interface ChorusUnderTest {
  /** Base URL of the api's HTTP edge, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** Base URL of a mesh port serving chorus.api.v1 (gRPC, gRPC-Web and Connect). */
  meshUrl: string;
  /** The account storage contract, to make a bot account without the applications API. */
  storage: Client<typeof AccountStorageService>;
}

/** A tiny 1×1 PNG as a data URI. */
const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

export function describeAccounts(mode: string, start: () => Promise<ChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`accounts (${mode} mode)`, () => {
    let chorus: ChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;
    const freshName = () => `u${run}_${++serial}`;

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const call = (method: string, path: string, options: CallOptions = {}) => httpCall(chorus.httpUrl, method, path, options);

    /** Registers a fresh account through the Discord API. */
    async function register(extra: Record<string, unknown> = {}) {
      const username = freshName();
      const credentials = { username, email: `${username}@Example.com`, password: `pw-${username}-secret` };
      const res = await call("POST", "/api/v10/auth/register", { body: { ...credentials, consent: true, date_of_birth: "2000-01-01", ...extra } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { ...credentials, token: res.body.token as string, id: res.body.user_id as string };
    }

    describe("Discord REST API", () => {
      it("register → login → GET/PATCH @me → GET /users/:id → logout → the token is refused", async () => {
        const alice = await register({ global_name: "Alice ✨" });
        assert.match(alice.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
        assert.equal(Buffer.from(alice.token.split(".")[0], "base64url").toString(), alice.id, "the token names its user");

        const me = await call("GET", "/api/v10/users/@me", { token: alice.token });
        assert.equal(me.status, 200);
        assertMatches(UserPIIResponseSchema, me.body, "GET /users/@me");
        const expected: Record<string, unknown> = {
          id: alice.id,
          username: alice.username,
          global_name: "Alice ✨",
          avatar: null,
          discriminator: "0",
          email: alice.email,
          verified: false,
          mfa_enabled: false,
          locale: "en-US",
          flags: 0,
          public_flags: 0,
        };
        for (const [key, value] of Object.entries(expected)) assert.deepEqual(me.body[key], value, key);
        assert.equal(me.body.bot, undefined, "bot appears only on bots");

        // Login by email in another case, then by username: a new token each time.
        const byEmail = await call("POST", "/api/v10/auth/login", { body: { login: alice.email.toUpperCase(), password: alice.password } });
        assert.equal(byEmail.status, 200, JSON.stringify(byEmail.body));
        assert.deepEqual(Object.keys(byEmail.body).sort(), ["token", "user_id", "user_settings"]);
        assert.equal(byEmail.body.user_id, alice.id);
        assert.deepEqual(byEmail.body.user_settings, { locale: "en-US", theme: "dark" });
        assert.notEqual(byEmail.body.token, alice.token);
        const byName = await call("POST", "/api/v10/auth/login", { body: { login: alice.username, password: alice.password, undelete: false } });
        assert.equal(byName.status, 200);
        const session = byName.body.token as string;

        const patched = await call("PATCH", "/api/v10/users/@me", { token: session, body: { global_name: "Alice B", avatar: PNG } });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assertMatches(UserPIIResponseSchema, patched.body, "PATCH /users/@me");
        assert.equal(patched.body.global_name, "Alice B");
        assert.match(patched.body.avatar, /^[0-9a-f]{32}$/);

        const renamed = freshName();
        const noPassword = await call("PATCH", "/api/v10/users/@me", { token: session, body: { username: renamed } });
        assertFormErrors(noPassword, { password: "BASE_TYPE_REQUIRED" });
        const wrongPassword = await call("PATCH", "/api/v10/users/@me", { token: session, body: { username: renamed, password: "not-it-at-all" } });
        assertFormErrors(wrongPassword, { password: "PASSWORD_DOES_NOT_MATCH" });
        const rename = await call("PATCH", "/api/v10/users/@me", { token: session, body: { username: renamed, password: alice.password } });
        assert.equal(rename.status, 200, JSON.stringify(rename.body));
        assert.equal(rename.body.username, renamed);
        assert.equal((await call("POST", "/api/v10/auth/login", { body: { login: renamed, password: alice.password } })).status, 200);
        assertFormErrors(await call("POST", "/api/v10/auth/login", { body: { login: alice.username, password: alice.password } }), {
          login: "INVALID_LOGIN",
          password: "INVALID_LOGIN",
        });

        // Another user sees the public profile only.
        const bob = await register();
        const seen = await call("GET", `/api/v10/users/${alice.id}`, { token: bob.token });
        assert.equal(seen.status, 200);
        assertMatches(UserResponseSchema, seen.body, "GET /users/:id");
        assert.equal(seen.body.username, renamed);
        assert.equal(seen.body.global_name, "Alice B");
        for (const hidden of ["email", "verified", "locale", "mfa_enabled"]) assert.equal(hidden in seen.body, false, hidden);

        const cleared = await call("PATCH", "/api/v10/users/@me", { token: session, body: { global_name: null, avatar: null } });
        assert.equal(cleared.body.global_name, null);
        assert.equal(cleared.body.avatar, null);

        // The unversioned alias serves the same API.
        assert.equal((await call("GET", "/api/users/@me", { token: session })).body.id, alice.id);

        const logout = await call("POST", "/api/v10/auth/logout", { token: session, body: { provider: null, voip_provider: null } });
        assert.equal(logout.status, 204);
        assertUnauthorized(await call("GET", "/api/v10/users/@me", { token: session }));
        assertUnauthorized(await call("POST", "/api/v10/auth/logout", { token: session }));
        // Other sessions of the account live on.
        assert.equal((await call("GET", "/api/v10/users/@me", { token: alice.token })).status, 200);
      });

      it("a taken email or username is 400 Invalid Form Body naming the field, whatever its case", async () => {
        const taken = await register();
        const fresh = freshName();
        assertFormErrors(
          await call("POST", "/api/v10/auth/register", { body: { username: fresh, email: taken.email.toLowerCase(), password: "long enough" } }),
          { email: "EMAIL_ALREADY_REGISTERED" },
        );
        assertFormErrors(
          await call("POST", "/api/v10/auth/register", { body: { username: taken.username, email: `${fresh}@example.com`, password: "long enough" } }),
          { username: "USERNAME_ALREADY_TAKEN" },
        );
        // The refused registrations kept nothing: their other name is still free.
        await call("POST", "/api/v10/auth/register", { body: { username: fresh, email: `${fresh}@example.com`, password: "long enough" } }).then(
          (res) => assert.equal(res.status, 201, JSON.stringify(res.body)),
        );
        const other = await register();
        assertFormErrors(
          await call("PATCH", "/api/v10/users/@me", { token: other.token, body: { username: taken.username, password: other.password } }),
          { username: "USERNAME_ALREADY_TAKEN" },
        );
        assertFormErrors(
          await call("PATCH", "/api/v10/users/@me", { token: other.token, body: { email: taken.email.toUpperCase(), password: other.password } }),
          { email: "EMAIL_ALREADY_REGISTERED" },
        );
      });

      it("bad bodies are 400 Invalid Form Body naming each bad field", async () => {
        assertFormErrors(await call("POST", "/api/v10/auth/register", { body: {} }), {
          username: "BASE_TYPE_REQUIRED",
          email: "BASE_TYPE_REQUIRED",
          password: "BASE_TYPE_REQUIRED",
        });
        assertFormErrors(await call("POST", "/api/v10/auth/register"), {
          username: "BASE_TYPE_REQUIRED",
          email: "BASE_TYPE_REQUIRED",
          password: "BASE_TYPE_REQUIRED",
        });
        assertFormErrors(
          await call("POST", "/api/v10/auth/register", { body: { username: "x", email: "not-an-email", password: "short", global_name: "" } }),
          { username: "BASE_TYPE_BAD_LENGTH", email: "EMAIL_TYPE_INVALID_EMAIL", password: "BASE_TYPE_BAD_LENGTH", global_name: "BASE_TYPE_BAD_LENGTH" },
        );
        for (const username of ["Upper", "two..dots", "with space", "émile", "a".repeat(33)]) {
          const res = await call("POST", "/api/v10/auth/register", { body: { username, email: `${freshName()}@example.com`, password: "long enough" } });
          assertFormErrors(res, { username: undefined });
        }
        assertFormErrors(await call("POST", "/api/v10/auth/register", { body: { username: 5, email: true, password: "long enough" } }), {
          username: "BASE_TYPE_STRING",
          email: "BASE_TYPE_STRING",
        });
        const notAnObject = await call("POST", "/api/v10/auth/register", { body: ["a"] });
        assert.equal(notAnObject.status, 400);
        assert.equal(notAnObject.body.errors._errors[0].code, "DICT_TYPE_CONVERT");
        assertFormErrors(await call("POST", "/api/v10/auth/login", { body: {} }), { login: "BASE_TYPE_REQUIRED", password: "BASE_TYPE_REQUIRED" });

        const user = await register();
        assertFormErrors(await call("PATCH", "/api/v10/users/@me", { token: user.token, body: { username: "A", global_name: "x".repeat(33) } }), {
          username: "BASE_TYPE_BAD_LENGTH",
          global_name: "BASE_TYPE_BAD_LENGTH",
        });
        assertFormErrors(await call("PATCH", "/api/v10/users/@me", { token: user.token, body: { avatar: "data:text/plain;base64,aGk=" } }), {
          avatar: "IMAGE_INVALID",
        });

        const badJson = await call("POST", "/api/v10/auth/login", { raw: "{not json" });
        assert.equal(badJson.status, 400);
        assert.deepEqual(badJson.body, { message: "The request body contains invalid JSON.", code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON });
      });

      it("a wrong password or an unknown login is 400 INVALID_LOGIN on login and password, as Discord", async () => {
        const user = await register();
        for (const body of [
          { login: user.email, password: "wrong password" },
          { login: user.username, password: "wrong password" },
          { login: `${freshName()}@example.com`, password: user.password },
          { login: freshName(), password: user.password },
        ]) {
          assertFormErrors(await call("POST", "/api/v10/auth/login", { body }), { login: "INVALID_LOGIN", password: "INVALID_LOGIN" });
        }
      });

      it("unknown users are 404 Unknown User (10013); bad ids, tokens and routes answer as Discord", async () => {
        const user = await register();
        const unknown = await call("GET", `/api/v10/users/${new SnowflakeGenerator({ workerId: 31, processId: 31 }).next()}`, { token: user.token });
        assert.equal(unknown.status, 404);
        assert.deepEqual(unknown.body, { message: "Unknown User", code: RESTJSONErrorCodes.UnknownUser });
        assertMatches(ErrorResponseSchema, unknown.body, "Unknown User");
        assertFormErrors(await call("GET", "/api/v10/users/not-an-id", { token: user.token }), { user_id: "NUMBER_TYPE_COERCE" });

        assertUnauthorized(await call("GET", `/api/v10/users/${user.id}`));
        assertUnauthorized(await call("GET", "/api/v10/users/@me"));
        assertUnauthorized(await call("GET", "/api/v10/users/@me", { token: "garbage" }));
        assertUnauthorized(await call("GET", "/api/v10/users/@me", { token: issueToken(BigInt(user.id)).token }));
        // A person's token is not a bot's.
        assertUnauthorized(await call("GET", "/api/v10/users/@me", { token: `Bot ${user.token}` }));

        const missing = await call("GET", "/api/v10/no/such/route", { token: user.token });
        assert.equal(missing.status, 404);
        assert.deepEqual(missing.body, { message: "404: Not Found", code: 0 });
      });

      it("@discordjs/rest drives GET /users/@me with a person's (Bearer) and a bot's (Bot) token", async () => {
        const user = await register();
        const made: REST[] = [];
        const rest = (authPrefix: "Bot" | "Bearer", token: string) => {
          const client = new REST({ api: `${chorus.httpUrl}/api`, version: "10", authPrefix, timeout: 10_000 }).setToken(token);
          made.push(client);
          return client;
        };

        const asUser = rest("Bearer", user.token);
        const me = (await asUser.get(Routes.user())) as APIUser;
        assert.equal(me.id, user.id);
        assert.equal(me.username, user.username);
        assert.equal(((await asUser.get(Routes.user(user.id))) as APIUser).username, user.username);

        // A bot account made through the storage contract, with a token minted as the api does
        // (applications-suite.ts makes bots through the applications API).
        const botId = new SnowflakeGenerator({ workerId: 30, processId: Math.floor(Math.random() * 32) }).next();
        const bot = create(UserSchema, { id: botId, username: `bot${run}`, bot: true, locale: "en-US" });
        await chorus.storage.createUser({ user: bot, passwordHash: "" });
        const botToken = issueToken(botId);
        await chorus.storage.createToken({ token: { tokenHash: botToken.hash, userId: botId, kind: TokenKind.BOT } });
        const asBot = rest("Bot", botToken.token);
        const botMe = (await asBot.get(Routes.user())) as APIUser;
        assertMatches(UserPIIResponseSchema, botMe, "a bot's /users/@me");
        assert.equal(botMe.id, botId.toString());
        assert.equal(botMe.bot, true);
        assert.equal(botMe.email, null);
        // A bot's token is refused without its prefix, and no password logs a bot in.
        assertUnauthorized(await call("GET", "/api/v10/users/@me", { token: botToken.token }));

        // Form errors reach the library's DiscordAPIError as Discord's would.
        await assert.rejects(asUser.patch(Routes.user(), { body: { username: "A" } }), (err: unknown) => {
          assert.ok(err instanceof DiscordAPIError, String(err));
          assert.equal(err.status, 400);
          assert.equal(err.code, RESTJSONErrorCodes.InvalidFormBodyOrContentType);
          assert.match(err.message, /username\[BASE_TYPE_BAD_LENGTH\]: Must be between 2 and 32 in length\./);
          return true;
        });

        await assert.rejects(rest("Bearer", `${user.token.slice(0, -2)}xx`).get(Routes.user()), (err: unknown) => {
          assert.ok(err instanceof DiscordAPIError, String(err));
          assert.equal(err.status, 401);
          assert.equal(err.code, 0);
          return true;
        });
        for (const client of made) {
          client.clearHashSweeper();
          client.clearHandlerSweeper();
        }
      });
    });

    describe("Connect AccountService", () => {
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

      async function rejectsWith(call: Promise<unknown>, code: Code, field?: string) {
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(err.code, code, `${Code[err.code]}: ${err.rawMessage}`);
          if (field) assert.match(err.rawMessage, new RegExp(`^${field}: `), err.rawMessage);
          return true;
        });
      }

      it("register, login, current user, profile update, public profiles, logout", async () => {
        const api = createClient(AccountService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const username = freshName();
        const registered = await api.register({ username, email: `${username}@example.com`, password: "connect password", globalName: "Connie" });
        assert.ok(registered.userId > 0n);
        const me = (await api.getCurrentUser({}, bearer(registered.token))).user!;
        assert.equal(me.username, username);
        assert.equal(me.email, `${username}@example.com`);
        assert.equal(me.globalName, "Connie");

        const login = await api.login({ login: username.toUpperCase(), password: "connect password" });
        assert.equal(login.userId, registered.userId);
        assert.equal(login.locale, "en-US");

        const updated = await api.updateCurrentUser(
          { user: { globalName: "Connie 2", avatar: PNG }, updateMask: { paths: ["global_name", "avatar"] } },
          bearer(login.token),
        );
        assert.equal(updated.user?.globalName, "Connie 2");
        assert.match(updated.user?.avatar ?? "", /^[0-9a-f]{32}$/);

        // The same contract on the mesh port.
        const mesh = createClient(AccountService, createConnectTransport({ baseUrl: chorus.meshUrl, httpVersion: "1.1" }));
        const other = await register();
        const seen = (await mesh.getUser({ userId: registered.userId }, bearer(other.token))).user!;
        assert.equal(seen.globalName, "Connie 2");
        assert.equal(seen.email, undefined, "a public profile has no email");
        assert.equal(seen.locale, "");

        await api.logout({}, bearer(login.token));
        await rejectsWith(api.getCurrentUser({}, bearer(login.token)), Code.Unauthenticated);
        assert.equal((await api.getCurrentUser({}, bearer(registered.token))).user?.id, registered.userId);
      });

      it("errors: INVALID_ARGUMENT, ALREADY_EXISTS and UNAUTHENTICATED name the field; unknown users are NOT_FOUND", async () => {
        const api = createClient(AccountService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const taken = await register();
        await rejectsWith(api.register({ username: "X", email: "nope", password: "short" }), Code.InvalidArgument, "username");
        await assert.rejects(api.register({ username: "X", email: "nope", password: "short" }), (err: ConnectError) => {
          for (const field of ["username", "email", "password"]) assert.match(err.rawMessage, new RegExp(`(^|; )${field}: `));
          return true;
        });
        await rejectsWith(api.register({ username: taken.username, email: `${freshName()}@example.com`, password: "long enough" }), Code.AlreadyExists, "username");
        await rejectsWith(api.register({ username: freshName(), email: taken.email, password: "long enough" }), Code.AlreadyExists, "email");
        await rejectsWith(api.login({ login: taken.username, password: "wrong password" }), Code.Unauthenticated, "login");
        await rejectsWith(api.getCurrentUser({}), Code.Unauthenticated);
        await rejectsWith(api.getCurrentUser({}, bearer("garbage")), Code.Unauthenticated);
        await rejectsWith(api.getUser({ userId: 12345n }, bearer(taken.token)), Code.NotFound, "user_id");
        await rejectsWith(
          api.updateCurrentUser({ user: { username: "x" }, updateMask: { paths: ["username"] } }, bearer(taken.token)),
          Code.InvalidArgument,
          "username",
        );
        await rejectsWith(api.updateCurrentUser({ updateMask: { paths: ["flags"] } }, bearer(taken.token)), Code.InvalidArgument, "update_mask");
      });
    });
  });
}
