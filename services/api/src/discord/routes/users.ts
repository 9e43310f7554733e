import type { FastifyInstance } from "fastify";
import { profileChangesSchema, validate } from "../../accounts/account-rules.js";
import type { Accounts } from "../../accounts/accounts.js";
import { MAX_AVATAR_BYTES } from "../../accounts/avatars.js";
import { requireSession } from "../auth.js";
import { pathSnowflake } from "../path-ids.js";
import { discordCurrentUser, discordUser } from "@chorus/discord-json/users";

/** Room for the largest avatar as a base64 data URI (4/3 of its size) and the other fields. */
const PROFILE_BODY_LIMIT = Math.ceil((MAX_AVATAR_BYTES * 4) / 3) + 64 * 1024;

/** Discord's user routes: /users/@me (GET, PATCH) and /users/:id. */
export function userRoutes(accounts: Accounts) {
  return async (app: FastifyInstance) => {
    app.get("/users/@me", async (request) => {
      const session = await requireSession(accounts, request);
      return discordCurrentUser(await accounts.currentUser(session));
    });

    app.patch("/users/@me", { bodyLimit: PROFILE_BODY_LIMIT }, async (request) => {
      const session = await requireSession(accounts, request);
      const changes = validate(profileChangesSchema, request.body ?? {});
      return discordCurrentUser(await accounts.updateCurrentUser(session, changes));
    });

    app.get<{ Params: { id: string } }>("/users/:id", async (request) => {
      await requireSession(accounts, request);
      const userId = pathSnowflake("user_id", request.params.id);
      return discordUser(await accounts.getUser(userId));
    });
  };
}
