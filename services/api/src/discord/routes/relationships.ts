import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { validate } from "../../accounts/account-rules.js";
import type { Accounts } from "../../accounts/accounts.js";
import type { Relationships } from "../../relationships/relationships.js";
import { requireSession } from "../auth.js";
import { answerRefusals } from "../refusals.js";
import { discordRelationship } from "../relationships.js";
import { pathSnowflake } from "../path-ids.js";

/** POST /users/@me/relationships: add a friend by username (the legacy discriminator is ignored). */
const friendRequestByNameSchema = z.object({
  username: z.string(),
  discriminator: z.union([z.string(), z.number()]).nullish(),
});

/** PUT /users/@me/relationships/:id: `{}` (or type 1, 3 or 4) sends or accepts a request, type 2 blocks. */
const putRelationshipSchema = z.object({
  type: z.literal([1, 2, 3, 4]).nullish(),
});

type ById = { Params: { id: string } };

/** Discord's friends routes: /users/@me/relationships. People only (bots: 403, 20001). */
export function relationshipRoutes(accounts: Accounts, relationships: Relationships) {
  return async (app: FastifyInstance) => {
    answerRefusals(app);

    app.get("/users/@me/relationships", async (request) =>
      (await relationships.list(await requireSession(accounts, request))).map(discordRelationship),
    );

    app.post("/users/@me/relationships", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const { username } = validate(friendRequestByNameSchema, request.body ?? {});
      await relationships.request(session, { username });
      return reply.code(204).send();
    });

    app.put<ById>("/users/@me/relationships/:id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const userId = pathSnowflake("user_id", request.params.id);
      const { type } = validate(putRelationshipSchema, request.body ?? {});
      if (type === 2) await relationships.block(session, userId);
      else await relationships.request(session, { userId });
      return reply.code(204).send();
    });

    app.delete<ById>("/users/@me/relationships/:id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      await relationships.remove(session, pathSnowflake("user_id", request.params.id));
      return reply.code(204).send();
    });
  };
}
